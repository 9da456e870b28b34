using System.Globalization;
using System.Reflection;
using Deedle;

namespace CircuitNotebooks.Interactive.Html;

/// <summary>Deedle frames as bounded HTML tables (row keys as row headers, missing values shown empty).</summary>
public static class FrameTable
{
    private static readonly MethodInfo RenderTyped =
        typeof(FrameTable).GetMethod(nameof(RenderFrame), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>Any <c>Frame&lt;TRowKey, TColumnKey&gt;</c>, typed or not.</summary>
    public static string Render(IFrame frame, int maxRows = HtmlTable.DefaultMaxRows)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var type = frame.GetType();
        while (type != null && !(type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Frame<,>))) type = type.BaseType;
        if (type == null) throw new ArgumentException($"{frame.GetType()} is not a Deedle Frame<,>", nameof(frame));
        try
        {
            return (string)RenderTyped.MakeGenericMethod(type.GetGenericArguments()).Invoke(null, [frame, maxRows])!;
        }
        catch (TargetInvocationException e) when (e.InnerException != null)
        {
            throw e.InnerException;
        }
    }

    /// <summary>"Frame: 5 rows × 3 columns (rank, token, probability)".</summary>
    public static string Describe(IFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var type = frame.GetType();
        object? Get(string property) => type.GetProperty(property)?.GetValue(frame);
        var columns = ((System.Collections.IEnumerable?)Get("ColumnKeys") ?? Array.Empty<object>()).Cast<object>()
            .Select(c => Convert.ToString(c, CultureInfo.InvariantCulture));
        return $"Frame: {Get("RowCount")} rows × {Get("ColumnCount")} columns ({string.Join(", ", columns)})";
    }

    /// <summary>Typed overload.</summary>
    public static string Render<TRow, TCol>(Frame<TRow, TCol> frame, int maxRows = HtmlTable.DefaultMaxRows)
        where TRow : notnull where TCol : notnull => RenderFrame(frame, maxRows);

    private static string RenderFrame<TRow, TCol>(Frame<TRow, TCol> frame, int maxRows)
        where TRow : notnull where TCol : notnull
    {
        var columnKeys = frame.ColumnKeys.ToArray();
        var columns = columnKeys.Select(c => frame.GetColumn<object>(c)).ToArray();
        var rowKeys = frame.RowKeys.Take(maxRows).ToArray();
        var rows = rowKeys.Select(r => (IReadOnlyList<object?>)columns.Select(s =>
        {
            var v = s.TryGet(r);
            return v.HasValue ? v.Value : null;
        }).ToArray());
        var header = columnKeys.Select(c => Convert.ToString(c, CultureInfo.InvariantCulture) ?? "").ToArray();
        var rowHeaders = rowKeys.Select(r => Convert.ToString(r, CultureInfo.InvariantCulture) ?? "").ToArray();
        var html = HtmlTable.Render(header, rows, maxRows, rowHeaders);
        var hidden = frame.RowCount - rowKeys.Length;
        var caption = $"<div class=\"cn-caption\">Frame: {frame.RowCount} rows × {frame.ColumnCount} columns</div>";
        return caption + html + (hidden > 0 ? HtmlTable.MoreRows(hidden) : "");
    }
}
