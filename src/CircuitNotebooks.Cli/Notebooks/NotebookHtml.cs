using System.Net;
using System.Text;
using CircuitNotebooks.Interactive.Html;
using Markdig;
using Microsoft.DotNet.Interactive.Documents;

namespace CircuitNotebooks.Cli.Notebooks;

/// <summary>
/// One offline page for an executed notebook: markdown rendered (Markdig, tables included), code shown, outputs
/// inline. The first chart output already carries plotly.js; later copies (an .ipynb run with --plotly every) are dropped.
/// </summary>
public static class NotebookHtml
{
    private static readonly MarkdownPipeline Markdown = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    public static HtmlReport Render(InteractiveDocument notebook, string title)
    {
        var report = new HtmlReport(title);
        var embedded = false;
        foreach (var cell in notebook.Elements)
        {
            var sb = new StringBuilder("<section class=\"cn-cell\">");
            if (cell.KernelName == "markdown")
            {
                sb.Append(Markdig.Markdown.ToHtml(cell.Contents, Markdown));
            }
            else
            {
                var label = cell.ExecutionOrder > 0 ? $"[{cell.ExecutionOrder}]" : "[ ]";
                sb.Append("<div class=\"cn-cell-label\">").Append(WebUtility.HtmlEncode(label)).Append("</div>");
                sb.Append("<pre class=\"cn-code\"><code>").Append(WebUtility.HtmlEncode(cell.Contents)).Append("</code></pre>");
                foreach (var output in cell.Outputs)
                {
                    var html = OutputHtml(output);
                    if (html.Contains(PlotlyJs.EmbedMarker, StringComparison.Ordinal))
                    {
                        if (embedded) html = StripPlotly(html);
                        embedded = true;
                    }
                    sb.Append("<div class=\"cn-output\">").Append(html).Append("</div>");
                }
            }
            report.Html(sb.Append("</section>").ToString());
        }
        return report;
    }

    private static string OutputHtml(InteractiveDocumentOutputElement output) => output switch
    {
        DisplayElement d => Display(d.Data),
        ReturnValueElement r => Display(r.Data),
        TextElement t => "<pre class=\"cn-stream\">" + WebUtility.HtmlEncode(t.Text) + "</pre>",
        ErrorElement e => "<pre class=\"cn-error\">" + WebUtility.HtmlEncode($"{e.ErrorName}: {e.ErrorValue}\n{string.Join("\n", e.StackTrace ?? [])}") + "</pre>",
        _ => "",
    };

    private static string Display(IDictionary<string, object> data) =>
        data.TryGetValue("text/html", out var html) ? Text(html)
        : "<pre class=\"cn-stream\">" + WebUtility.HtmlEncode(data.TryGetValue("text/plain", out var plain) ? Text(plain) : "") + "</pre>";

    /// <summary>Values read from an .ipynb may be string arrays (one per line).</summary>
    private static string Text(object value) => value switch
    {
        string s => s,
        IEnumerable<object> lines => string.Concat(lines),
        System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.Array } a => string.Concat(a.EnumerateArray().Select(x => x.GetString())),
        _ => value.ToString() ?? "",
    };

    private static string StripPlotly(string html)
    {
        var start = html.IndexOf("<script type=\"text/javascript\" " + PlotlyJs.EmbedMarker, StringComparison.Ordinal);
        if (start < 0) return html;
        var end = html.IndexOf("</script>", start, StringComparison.Ordinal);
        return end < 0 ? html : html.Remove(start, end + "</script>".Length - start);
    }
}
