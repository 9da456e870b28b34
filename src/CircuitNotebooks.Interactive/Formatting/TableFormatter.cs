namespace CircuitNotebooks.Interactive.Formatting;

/// <summary>Tables as bounded HTML with an explicit "… N more rows" line.</summary>
public sealed class TableFormatter : NotebookFormatter<Table>
{
    /// <summary>Rows shown before the remainder is summarised; change it to see more.</summary>
    public static int MaxRows { get; set; } = Html.HtmlTable.DefaultMaxRows;

    protected override bool Format(Table value, TextWriter writer)
    {
        writer.Write(value.ToHtml(MaxRows));
        return true;
    }
}

/// <summary>Plain-text stand-in for a table (the .ipynb text/plain alternative): its size and columns.</summary>
public sealed class TablePlainTextFormatter : NotebookFormatter<Table>
{
    public override string MimeType => "text/plain";

    protected override bool Format(Table value, TextWriter writer)
    {
        writer.Write(value.ToString());
        return true;
    }
}
