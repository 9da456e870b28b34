namespace CircuitNotebooks.Tasks;

/// <summary>A dataset file that cannot be read; names the file and, where known, the line and column.</summary>
public sealed class DatasetFormatException : Exception
{
    public DatasetFormatException(string file, int? line, string? column, string problem, Exception? inner = null)
        : base(Describe(file, line, column, problem), inner)
    {
        File = file;
        Line = line;
        Column = column;
    }

    public string File { get; }
    /// <summary>1-based physical line (where the record starts, for multi-line CSV records).</summary>
    public int? Line { get; }
    /// <summary>Column name, or a 1-based character position for syntax errors.</summary>
    public string? Column { get; }

    private static string Describe(string file, int? line, string? column, string problem)
    {
        var where = file + (line is { } l ? $", line {l}" : "") + (column is { } c ? $", column {c}" : "");
        return $"{where}: {problem}";
    }
}
