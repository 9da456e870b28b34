using System.Text.Json.Nodes;
using Plotly.NET;

namespace CircuitNotebooks.Interactive.Html;

/// <summary>Renders a Plotly.NET chart as a div plus a <c>Plotly.newPlot</c> script, with no plotly.js reference.</summary>
public static class ChartHtml
{
    /// <summary>CSS class on every chart div this library writes (the browser test finds charts by it).</summary>
    public const string ChartClass = "cn-chart";

    /// <summary>
    /// The chart's div and drawing script. The caller is responsible for plotly.js being on the page
    /// (<see cref="PlotlyJs.ScriptTag"/> or <see cref="PlotlyEmbedding.TakeLoaderOnce"/>).
    /// </summary>
    public static string Render(GenericChart chart, string? divId = null)
    {
        ArgumentNullException.ThrowIfNull(chart);
        var id = divId ?? "cn-chart-" + Guid.NewGuid().ToString("N");
        var figure = FigureJson(chart);
        // A page that lost plotly.js (a cleared notebook output) says so instead of failing silently.
        return $"<div id=\"{id}\" class=\"{ChartClass}\"></div>\n<script type=\"text/javascript\">(function() {{\n" +
               $"  var el = document.getElementById('{id}');\n" +
               "  if (!window.Plotly) { el.textContent = 'plotly.js is not loaded in this page (re-run the cell after CircuitNotebooks.Interactive.Html.PlotlyEmbedding.Reset())'; return; }\n" +
               $"  var fig = {figure};\n" +
               "  Plotly.newPlot(el, fig.data, fig.layout, fig.config);\n" +
               "})();</script>";
    }

    /// <summary>Figure JSON <c>{data, layout, config}</c>, safe to inline in a script element.</summary>
    public static string FigureJson(GenericChart chart)
    {
        var figure = JsonNode.Parse(GenericChart.toFigureJson(chart))!.AsObject();
        figure.Remove("frames");
        var config = Newtonsoft.Json.JsonConvert.SerializeObject(GenericChart.getConfig(chart));
        figure["config"] = JsonNode.Parse(config);
        // "</" inside a JSON string would end the script element; "<\/" is the same string to JSON.
        return figure.ToJsonString().Replace("</", "<\\/", StringComparison.Ordinal);
    }
}
