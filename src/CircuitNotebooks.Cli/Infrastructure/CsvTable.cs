using CircuitNotebooks.Interactive;

namespace CircuitNotebooks.Cli.Infrastructure;

/// <summary>A <see cref="Interactive.Table"/> with the file name it is written to in an output folder.</summary>
public sealed class CsvTable(string fileName, IReadOnlyList<string> header)
{
    public string FileName { get; } = fileName;
    public Table Table { get; } = new(header);
    public IReadOnlyList<string> Header => Table.Columns;
    public IReadOnlyList<object?[]> Rows => Table.Rows;

    public CsvTable Add(params object?[] cells)
    {
        try
        {
            Table.Add(cells);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{FileName}: {e.Message}", e);
        }
        return this;
    }

    /// <summary>As <see cref="Table.FormatCell"/>: exact in CSV, 6 significant digits for display.</summary>
    public static string Format(object? v, bool exact = true) => Table.FormatCell(v, exact);

    public string ToCsv() => Table.ToCsv();

    public string ToHtml() => Table.ToHtml(maxRows: 200);
}
