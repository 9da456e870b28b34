using System.Globalization;
using System.Text;
using CircuitNotebooks.Interactive.Html;

namespace CircuitNotebooks.Cli.Infrastructure;

/// <summary>One result table: written as a CSV file and shown in the HTML report from the same cells.</summary>
public sealed class CsvTable(string fileName, IReadOnlyList<string> header)
{
    private readonly List<object?[]> _rows = [];

    public string FileName { get; } = fileName;
    public IReadOnlyList<string> Header { get; } = header;
    public IReadOnlyList<object?[]> Rows => _rows;

    public CsvTable Add(params object?[] cells)
    {
        if (cells.Length != Header.Count)
            throw new ArgumentException($"{FileName}: row has {cells.Length} cells, header {Header.Count}.");
        _rows.Add(cells);
        return this;
    }

    /// <summary>Invariant culture; in CSV doubles round-trip exactly ("R"), in HTML they show 4 significant digits.</summary>
    public static string Format(object? v, bool exact = true) => v switch
    {
        null => "",
        double d => double.IsFinite(d) ? d.ToString(exact ? "R" : "G4", CultureInfo.InvariantCulture) : (double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity"),
        float f => Format((double)f, exact),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    public string ToCsv()
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(",", Header.Select(Escape))).Append('\n');
        foreach (var r in _rows) sb.Append(string.Join(",", r.Select(c => Escape(Format(c))))).Append('\n');
        return sb.ToString();
    }

    public string ToHtml() => HtmlTable.Render(Header, _rows.Select(r => (IReadOnlyList<object?>)r.Select(c => (object?)Format(c, exact: false)).ToArray()), maxRows: 200);

    private static string Escape(string cell) =>
        cell.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + cell.Replace("\"", "\"\"") + "\"" : cell;
}
