using System.Net;
using System.Text;
using CircuitNotebooks.Interactive.Html;
using CircuitNotebooks.Interactive.Charts;

namespace CircuitNotebooks.Interactive.Formatting;

/// <summary>Building blocks of the engine-type formatters: summary tables, charts, collapsible lists.</summary>
internal static class EngineHtml
{
    public static string Chart(Chart chart) => PlotlyEmbedding.TakeLoaderOnce() + chart.ToHtml();

    /// <summary>A closed &lt;details&gt; block with a summary line and a monospace list (long lists stay out of the way).</summary>
    public static string Details(string summary, IEnumerable<string> lines)
    {
        var sb = new StringBuilder("<details class=\"cn-details\"><summary>").Append(WebUtility.HtmlEncode(summary)).Append("</summary><pre class=\"cn-pre\">");
        foreach (var line in lines) sb.Append(WebUtility.HtmlEncode(line)).Append('\n');
        return sb.Append("</pre></details>").ToString();
    }

    public static string Block(params string[] parts) => "<div class=\"cn-result\">" + string.Concat(parts) + "</div>";
}
