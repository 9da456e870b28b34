using CircuitNotebooks.Interactive.Charts;

namespace CircuitNotebooks.Interactive.Formatting;

/// <summary>
/// Charts as a div + newPlot script. The first chart of a notebook session (or of a runner document) also carries
/// plotly.js inline, so charts draw offline.
/// </summary>
public sealed class ChartFormatter : NotebookFormatter<Chart>
{
    protected override bool Format(Chart value, TextWriter writer)
    {
        writer.Write(EngineHtml.Chart(value));
        return true;
    }
}

/// <summary>Plain-text stand-in for a chart (the .ipynb text/plain alternative).</summary>
public sealed class ChartPlainTextFormatter : NotebookFormatter<Chart>
{
    public override string MimeType => "text/plain";

    protected override bool Format(Chart value, TextWriter writer)
    {
        writer.Write(value.ToString());
        return true;
    }
}
