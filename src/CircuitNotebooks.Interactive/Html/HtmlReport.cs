using CircuitNotebooks.Models;
using System.Net;
using System.Text;
using CircuitNotebooks.Interactive.Charts;

namespace CircuitNotebooks.Interactive.Html;

/// <summary>
/// Builds one self-contained, offline HTML page: sections, paragraphs, charts, tables, preformatted text.
/// plotly.js is embedded once in the head when the page has at least one chart; nothing is fetched from a network.
/// </summary>
public sealed class HtmlReport
{
    private readonly List<string> _body = [];
    private bool _needsPlotly;

    public HtmlReport(string title)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        Title = title;
    }

    public string Title { get; }

    /// <summary>A heading; <paramref name="level"/> 2..6 (the title is the page's h1).</summary>
    public HtmlReport Section(string heading, int level = 2)
    {
        if (level is < 2 or > 6) throw new ArgumentOutOfRangeException(nameof(level), level, "heading level must be 2..6");
        _body.Add($"<h{level}>{Enc(heading)}</h{level}>");
        return this;
    }

    public HtmlReport Paragraph(string text)
    {
        _body.Add($"<p>{Enc(text)}</p>");
        return this;
    }

    public HtmlReport Preformatted(string text)
    {
        _body.Add($"<pre class=\"cn-pre\">{Enc(text)}</pre>");
        return this;
    }

    public HtmlReport Chart(Chart chart, string? caption = null)
    {
        _needsPlotly = true;
        _body.Add("<figure class=\"cn-figure\">" + chart.ToHtml() +
                  (caption == null ? "" : $"<figcaption>{Enc(caption)}</figcaption>") + "</figure>");
        return this;
    }

    public HtmlReport Table<T>(IEnumerable<T> rows, int maxRows = HtmlTable.DefaultMaxRows)
    {
        _body.Add(HtmlTable.FromRows(rows, maxRows));
        return this;
    }

    public HtmlReport Table(Table table, int maxRows = HtmlTable.DefaultMaxRows)
    {
        _body.Add(table.ToHtml(maxRows));
        return this;
    }

    /// <summary>Trusted HTML inserted verbatim (e.g. a formatter's output). It must not load plotly.js itself
    /// unless the page has no <see cref="Chart"/>; the notebook runner relies on exactly that.</summary>
    public HtmlReport Html(string html)
    {
        _body.Add(html);
        return this;
    }

    /// <summary>Embed plotly.js in the head even without a <see cref="Chart"/> call (for raw chart HTML).</summary>
    public HtmlReport RequirePlotly()
    {
        _needsPlotly = true;
        return this;
    }

    public string ToHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append("<title>").Append(Enc(Title)).Append("</title>\n<style>").Append(Stylesheet).Append("</style>\n");
        if (_needsPlotly) sb.Append(PlotlyJs.ScriptTag()).Append('\n');
        sb.Append("</head>\n<body>\n<main>\n<h1>").Append(Enc(Title)).Append("</h1>\n");
        foreach (var block in _body) sb.Append(block).Append('\n');
        sb.Append("</main>\n</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>Writes the page atomically and returns the full path.</summary>
    public string Save(string path)
    {
        AtomicFile.WriteAllText(path, ToHtml());
        return Path.GetFullPath(path);
    }

    private static string Enc(string s) => WebUtility.HtmlEncode(s);

    /// <summary>Shared by reports and the notebook runner's page.</summary>
    public const string Stylesheet = """
        body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #1f2328; background: #fff; }
        main { max-width: 1100px; margin: 0 auto; padding: 16px 24px 48px; }
        h1 { border-bottom: 1px solid #d0d7de; padding-bottom: 6px; }
        pre, code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
        pre.cn-pre, pre.cn-code, pre.cn-stream { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 12px; overflow-x: auto; }
        pre.cn-error { background: #fff0f0; border: 1px solid #d1242f; color: #82071e; border-radius: 6px; padding: 8px 12px; white-space: pre-wrap; }
        table.cn-table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
        table.cn-table th, table.cn-table td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: right; }
        table.cn-table thead th { background: #f6f8fa; }
        table.cn-summary th { text-align: left; background: #f6f8fa; font-weight: 600; }
        table.cn-summary td { text-align: left; }
        table.cn-table caption { text-align: left; font-weight: 600; padding: 2px 0 4px; }
        details.cn-details { margin: 4px 0 8px; font-size: 13px; }
        details.cn-details pre { white-space: pre-wrap; }
        .cn-more, .cn-caption { color: #59636e; font-size: 12px; margin: 2px 0 8px; }
        figure.cn-figure { margin: 12px 0; }
        figcaption { color: #59636e; font-size: 13px; }
        .cn-cell { margin: 14px 0; }
        .cn-cell-label { color: #59636e; font-size: 11px; font-family: monospace; }
        .cn-output { margin: 4px 0 0 0; }
        """;
}
