using CircuitNotebooks.Interactive.Html;
using Deedle;

namespace CircuitNotebooks.Interactive.Formatting;

/// <summary>Deedle frames (any key types) as bounded HTML tables with an explicit "… N more rows" line.</summary>
public sealed class FrameFormatter : NotebookFormatter<IFrame>
{
    /// <summary>Rows shown before the remainder is summarised; change it to see more.</summary>
    public static int MaxRows { get; set; } = HtmlTable.DefaultMaxRows;

    protected override bool Format(IFrame value, TextWriter writer)
    {
        writer.Write(FrameTable.Render(value, MaxRows));
        return true;
    }
}

/// <summary>Plain-text stand-in for a frame (the .ipynb text/plain alternative): its size and columns.</summary>
public sealed class FramePlainTextFormatter : NotebookFormatter<IFrame>
{
    public override string MimeType => "text/plain";

    protected override bool Format(IFrame value, TextWriter writer)
    {
        writer.Write(FrameTable.Describe(value));
        return true;
    }
}
