using CircuitNotebooks.Interactive.Html;
using Plotly.NET;

namespace CircuitNotebooks.Interactive.Formatting;

/// <summary>
/// Plotly charts as a div + newPlot script. The first chart of a notebook session (or of a runner document) also
/// carries plotly.js inline, so charts draw offline; Plotly.NET 6's own notebook formatter is only a placeholder.
/// </summary>
public sealed class ChartFormatter : NotebookFormatter<GenericChart>
{
    protected override bool Format(GenericChart value, TextWriter writer)
    {
        writer.Write(PlotlyEmbedding.TakeLoaderOnce());
        writer.Write(ChartHtml.Render(value));
        return true;
    }
}

/// <summary>Plain-text stand-in for a chart (the .ipynb text/plain alternative).</summary>
public sealed class ChartPlainTextFormatter : NotebookFormatter<GenericChart>
{
    public override string MimeType => "text/plain";

    protected override bool Format(GenericChart value, TextWriter writer)
    {
        writer.Write($"Plotly chart ({GenericChart.countTrace(value)} trace(s))");
        return true;
    }
}
