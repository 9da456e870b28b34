using CircuitNotebooks.Interactive.Html;

namespace CircuitNotebooks.Interactive.Formatting;

/// <summary>Trusted HTML written verbatim.</summary>
public sealed class HtmlFragmentFormatter : NotebookFormatter<HtmlFragment>
{
    protected override bool Format(HtmlFragment value, TextWriter writer)
    {
        writer.Write(value.Html);
        return true;
    }
}
