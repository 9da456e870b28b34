using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using CircuitNotebooks.Interactive.Html;
using CircuitNotebooks.Models;

namespace CircuitNotebooks.Interactive;

/// <summary>
/// A result table: named columns, rows of cells. The one path from results to CSV files and HTML tables, in
/// notebooks, reports and the CLI. (Deedle 8 would be the obvious frame type, but it needs FSharp.Core 10.1 and the
/// notebook kernel ships 10.0, so it cannot load there; see environment.md.)
/// </summary>
public sealed class Table
{
    private readonly List<object?[]> _rows = [];

    /// <summary>An empty table with these columns; fill it with <see cref="Add"/>.</summary>
    public Table(params IReadOnlyList<string> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count == 0) throw new ArgumentException("a table needs at least one column", nameof(columns));
        var duplicate = columns.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null) throw new ArgumentException($"column '{duplicate.Key}' appears twice", nameof(columns));
        Columns = columns.ToArray();
    }

    /// <summary>One row per item, one column per public property or field (anonymous types and records work).</summary>
    public static Table FromRecords<T>(IEnumerable<T> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var members = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.CanRead && p.Name != "EqualityContract")
            .Cast<MemberInfo>()
            .Concat(typeof(T).GetFields(BindingFlags.Public | BindingFlags.Instance))
            .ToArray();
        if (members.Length == 0) throw new ArgumentException($"{typeof(T).Name} has no public properties or fields to tabulate", nameof(records));
        var table = new Table(members.Select(m => m.Name).ToArray());
        foreach (var r in records)
            table.Add(members.Select(m => r is null ? null : m is PropertyInfo p ? p.GetValue(r) : ((FieldInfo)m).GetValue(r)).ToArray());
        return table;
    }

    /// <summary>Column names, in order.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The rows' cells, in column order.</summary>
    public IReadOnlyList<object?[]> Rows => _rows;

    public int RowCount => _rows.Count;

    /// <summary>Appends a row; it must have one cell per column.</summary>
    public Table Add(params object?[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != Columns.Count)
            throw new ArgumentException($"row {RowCount} has {cells.Length} cells but the table has {Columns.Count} columns ({string.Join(", ", Columns)})", nameof(cells));
        _rows.Add(cells);
        return this;
    }

    /// <summary>Row <paramref name="index"/> as column name → cell.</summary>
    public IReadOnlyDictionary<string, object?> Row(int index) =>
        Columns.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => _rows[index][x.i], StringComparer.Ordinal);

    /// <summary>The cell at <paramref name="row"/> in column <paramref name="column"/>.</summary>
    public object? this[int row, string column] => _rows[row][IndexOf(column)];

    /// <summary>One column's cells converted to <typeparamref name="T"/> (e.g. <c>Column&lt;double&gt;("score")</c>).</summary>
    public IReadOnlyList<T> Column<T>(string column)
    {
        var i = IndexOf(column);
        return _rows.Select(r => r[i] is T t ? t : (T)Convert.ChangeType(r[i], typeof(T), CultureInfo.InvariantCulture)!).ToArray();
    }

    private int IndexOf(string column)
    {
        for (var i = 0; i < Columns.Count; i++)
            if (string.Equals(Columns[i], column, StringComparison.Ordinal)) return i;
        throw new KeyNotFoundException($"no column '{column}' (columns: {string.Join(", ", Columns)})");
    }

    /// <summary>
    /// A cell as text, invariant culture. In CSV doubles round-trip exactly ("R"); for display they show 6 significant
    /// digits. NaN is "NaN", booleans "true"/"false".
    /// </summary>
    public static string FormatCell(object? value, bool exact = true) => value switch
    {
        null => "",
        double d => double.IsFinite(d) ? d.ToString(exact ? "R" : "G6", CultureInfo.InvariantCulture)
                    : double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity",
        float f => FormatCell((double)f, exact),
        bool b => b ? "true" : "false",
        string s => s,
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable e => string.Join(" ", e.Cast<object?>().Select(v => FormatCell(v, exact))),
        _ => value.ToString() ?? "",
    };

    /// <summary>RFC 4180 CSV with a header line; cells as <see cref="FormatCell"/> writes them.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(",", Columns.Select(Escape))).Append('\n');
        foreach (var r in _rows) sb.Append(string.Join(",", r.Select(c => Escape(FormatCell(c))))).Append('\n');
        return sb.ToString();
    }

    /// <summary>Writes the CSV atomically (a reader never sees half a file); returns the full path.</summary>
    public string WriteCsv(string path)
    {
        AtomicFile.WriteAllText(path, ToCsv());
        return Path.GetFullPath(path);
    }

    /// <summary>An HTML table of at most <paramref name="maxRows"/> rows, then "… N more rows" (never silently cut).</summary>
    public string ToHtml(int maxRows = HtmlTable.DefaultMaxRows) =>
        $"<div class=\"cn-caption\">{RowCount} row{(RowCount == 1 ? "" : "s")} × {Columns.Count} column{(Columns.Count == 1 ? "" : "s")}</div>" +
        HtmlTable.Render(Columns, _rows.Select(r => (IReadOnlyList<object?>)r.Select(c => (object?)FormatCell(c, exact: false)).ToArray()), maxRows);

    /// <inheritdoc />
    public override string ToString() => $"Table: {RowCount} rows × {Columns.Count} columns ({string.Join(", ", Columns)})";

    private static string Escape(string cell) =>
        cell.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;
}
