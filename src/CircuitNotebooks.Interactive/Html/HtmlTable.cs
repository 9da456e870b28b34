using System.Collections;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;

namespace CircuitNotebooks.Interactive.Html;

/// <summary>
/// Bounded HTML tables. Rows past the limit are counted and reported ("… N more rows"), never silently dropped.
/// </summary>
public static class HtmlTable
{
    /// <summary>Default number of rows shown before the "… N more rows" line.</summary>
    public const int DefaultMaxRows = 50;

    /// <summary>CSS class on every table this library writes.</summary>
    public const string TableClass = "cn-table";

    /// <summary>Header and cells given explicitly; <paramref name="totalRows"/> counts rows not passed in.</summary>
    public static string Render(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<object?>> rows, int maxRows = DefaultMaxRows,
                                IReadOnlyList<string>? rowHeaders = null, string? rowHeaderTitle = null)
    {
        if (maxRows < 0) throw new ArgumentOutOfRangeException(nameof(maxRows), maxRows, "maxRows must be >= 0");
        var sb = new StringBuilder();
        sb.Append("<table class=\"").Append(TableClass).Append("\"><thead><tr>");
        if (rowHeaders != null) sb.Append("<th>").Append(Enc(rowHeaderTitle ?? "")).Append("</th>");
        foreach (var h in header) sb.Append("<th>").Append(Enc(h)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        var shown = 0;
        var hidden = 0;
        foreach (var row in rows)
        {
            if (shown >= maxRows) { hidden++; continue; }
            sb.Append("<tr>");
            if (rowHeaders != null) sb.Append("<th>").Append(Enc(shown < rowHeaders.Count ? rowHeaders[shown] : "")).Append("</th>");
            foreach (var cell in row) sb.Append("<td>").Append(Enc(Cell(cell))).Append("</td>");
            sb.Append("</tr>");
            shown++;
        }
        sb.Append("</tbody></table>");
        if (hidden > 0) sb.Append(MoreRows(hidden));
        return sb.ToString();
    }

    /// <summary>
    /// One row per item, one column per public property/field. Scalars and strings become a single "value" column.
    /// </summary>
    public static string FromRows<T>(IEnumerable<T> rows, int maxRows = DefaultMaxRows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var type = typeof(T);
        if (IsScalar(type) || type == typeof(object))
            return Render(["value"], rows.Select(r => (IReadOnlyList<object?>)[r]), maxRows);
        var members = Columns(type);
        if (members.Count == 0) throw new ArgumentException($"{type.Name} has no public properties or fields to tabulate", nameof(rows));
        return Render(members.Select(m => m.Name).ToArray(), rows.Select(r => (IReadOnlyList<object?>)members.Select(m => Value(m, r)).ToArray()), maxRows);
    }

    internal static string MoreRows(int hidden) =>
        $"<div class=\"cn-more\">… {hidden.ToString(CultureInfo.InvariantCulture)} more row{(hidden == 1 ? "" : "s")}</div>";

    internal static string Cell(object? value) => value switch
    {
        null => "",
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        float f => f.ToString("G6", CultureInfo.InvariantCulture),
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        string s => s,
        IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Take(10).Select(Cell)) + (e.Cast<object?>().Skip(10).Any() ? ", …]" : "]"),
        _ => value.ToString() ?? "",
    };

    internal static string Enc(string s) => WebUtility.HtmlEncode(s);

    private static bool IsScalar(Type t) =>
        t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(DateTime) || t == typeof(Guid)
        || (Nullable.GetUnderlyingType(t) is { } u && IsScalar(u));

    private static List<MemberInfo> Columns(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.CanRead && p.Name != "EqualityContract")
            .Cast<MemberInfo>()
            .Concat(type.GetFields(BindingFlags.Public | BindingFlags.Instance))
            .ToList();

    private static object? Value(MemberInfo m, object? item) => item == null ? null : m switch
    {
        PropertyInfo p => p.GetValue(item),
        FieldInfo f => f.GetValue(item),
        _ => null,
    };
}
