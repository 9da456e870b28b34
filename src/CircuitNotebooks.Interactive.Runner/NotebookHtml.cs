using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CircuitNotebooks.Interactive.Html;

namespace CircuitNotebooks.Interactive.Runner;

/// <summary>
/// One offline page for an executed notebook: markdown rendered, code shown, outputs inline. Chart outputs already
/// carry plotly.js once (the runner's document scope), so the page adds no other copy.
/// </summary>
public static class NotebookHtml
{
    public static HtmlReport Render(NotebookDocument notebook, string title)
    {
        var report = new HtmlReport(title);
        var embedded = false;
        for (var i = 0; i < notebook.Cells.Count; i++)
        {
            var cell = notebook.Cells[i];
            var sb = new StringBuilder("<section class=\"cn-cell\">");
            if (cell.IsMarkdown)
            {
                sb.Append(SimpleMarkdown.ToHtml(cell.Source));
            }
            else if (cell.IsCode)
            {
                var label = cell.ExecutionCount is { } n ? $"[{n}]" : "[ ]";
                if (cell.Tags.Count > 0) label += " " + string.Join(" ", cell.Tags.Select(t => "#" + t));
                sb.Append("<div class=\"cn-cell-label\">").Append(WebUtility.HtmlEncode(label)).Append("</div>");
                sb.Append("<pre class=\"cn-code\"><code>").Append(WebUtility.HtmlEncode(cell.Source)).Append("</code></pre>");
                foreach (var output in cell.Outputs)
                {
                    var html = OutputHtml(output);
                    // An .ipynb from elsewhere may carry several copies (e.g. EmbedInEveryOutput): keep the first only.
                    if (html.Contains(PlotlyJs.EmbedMarker, StringComparison.Ordinal))
                    {
                        if (embedded) html = StripPlotly(html);
                        embedded = true;
                    }
                    sb.Append("<div class=\"cn-output\">").Append(html).Append("</div>");
                }
            }
            else
            {
                sb.Append("<pre class=\"cn-pre\">").Append(WebUtility.HtmlEncode(cell.Source)).Append("</pre>");
            }
            report.Html(sb.Append("</section>").ToString());
        }
        return report;
    }

    private static string OutputHtml(JsonObject output)
    {
        switch (output["output_type"]?.GetValue<string>())
        {
            case "display_data" or "execute_result":
                if (Text(output["data"]?["text/html"]) is { } html) return html;
                return "<pre class=\"cn-stream\">" + WebUtility.HtmlEncode(Text(output["data"]?["text/plain"]) ?? "") + "</pre>";
            case "stream":
                return "<pre class=\"cn-stream\">" + WebUtility.HtmlEncode(Text(output["text"]) ?? "") + "</pre>";
            case "error":
                var lines = output["traceback"] is JsonArray tb ? string.Join("\n", tb.Select(t => t?.GetValue<string>())) : "";
                return "<pre class=\"cn-error\">" + WebUtility.HtmlEncode($"{output["ename"]}: {output["evalue"]}\n{lines}") + "</pre>";
            default:
                return "";
        }
    }

    private static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonArray a => string.Concat(a.Select(x => x?.GetValue<string>())),
        _ => node.GetValue<string>(),
    };

    private static string StripPlotly(string html)
    {
        var start = html.IndexOf("<script type=\"text/javascript\" " + PlotlyJs.EmbedMarker, StringComparison.Ordinal);
        if (start < 0) return html;
        var end = html.IndexOf("</script>", start, StringComparison.Ordinal);
        return end < 0 ? html : html.Remove(start, end + "</script>".Length - start);
    }
}
