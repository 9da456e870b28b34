using CircuitNotebooks.Interactive.Display;

namespace CircuitNotebooks.Interactive.Formatting;

/// <summary>Progress bars as an HTML &lt;progress&gt; element with their text.</summary>
public sealed class ProgressBarFormatter : NotebookFormatter<ProgressBar>
{
    protected override bool Format(ProgressBar value, TextWriter writer)
    {
        writer.Write(value.ToHtml().Html);
        return true;
    }
}
