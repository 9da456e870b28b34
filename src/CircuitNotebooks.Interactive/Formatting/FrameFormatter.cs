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
