using System.Text.Json.Nodes;

namespace CircuitNotebooks.Interactive.Charts;

/// <summary>
/// A plotly.js figure: traces, layout and config as JSON, drawn in notebooks, reports and CLI pages by the plotly.js
/// bundle this assembly embeds (no CDN, no F# assemblies: the notebook kernel's FSharp.Core 10.0 cannot load
/// Plotly.NET 6). The builders in this namespace return charts; <see cref="Data"/> and <see cref="Layout"/> are open
/// for any plotly.js attribute they do not set (names as in the plotly.js reference).
/// </summary>
public sealed class Chart
{
    /// <summary>CSS class on every chart div this library writes (the browser test finds charts by it).</summary>
    public const string CssClass = "cn-chart";

    /// <summary>The traces, in drawing order.</summary>
    public JsonArray Data { get; } = [];

    /// <summary>The figure layout (title, axes, size, shapes, …).</summary>
    public JsonObject Layout { get; } = [];

    /// <summary>The plotly.js config (mode bar, responsiveness).</summary>
    public JsonObject Config { get; } = new() { ["displaylogo"] = false, ["responsive"] = true };

    /// <summary>Number of traces.</summary>
    public int TraceCount => Data.Count;

    /// <summary>The layout's title text, or null.</summary>
    public string? Title => Layout["title"]?["text"]?.GetValue<string>();

    /// <summary>Appends a trace; returns this chart.</summary>
    public Chart Add(JsonObject trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        Data.Add(trace);
        return this;
    }

    /// <summary>Figure JSON <c>{data, layout, config}</c>, safe to inline in a script element.</summary>
    public string ToFigureJson()
    {
        var figure = new JsonObject
        {
            ["data"] = Data.DeepClone(),
            ["layout"] = Layout.DeepClone(),
            ["config"] = Config.DeepClone(),
        };
        // "</" inside a JSON string would end the script element; "<\/" is the same string to JSON.
        return figure.ToJsonString().Replace("</", "<\\/", StringComparison.Ordinal);
    }

    /// <summary>
    /// The chart's div and drawing script, without plotly.js: the page must carry it once (<see cref="Html.PlotlyJs"/>,
    /// which the notebook formatter and <see cref="Html.HtmlReport"/> take care of).
    /// </summary>
    public string ToHtml(string? divId = null)
    {
        var id = divId ?? "cn-chart-" + Guid.NewGuid().ToString("N");
        // A page that lost plotly.js (a cleared notebook output) says so instead of failing silently.
        return $"<div id=\"{id}\" class=\"{CssClass}\"></div>\n<script type=\"text/javascript\">(function() {{\n" +
               $"  var el = document.getElementById('{id}');\n" +
               "  if (!window.Plotly) { el.textContent = 'plotly.js is not loaded in this page (run #!circuitnotebooks --plotly reset, then re-run the cell)'; return; }\n" +
               $"  var fig = {ToFigureJson()};\n" +
               "  Plotly.newPlot(el, fig.data, fig.layout, fig.config);\n" +
               "})();</script>";
    }

    /// <inheritdoc />
    public override string ToString() => $"Chart '{Title}' ({TraceCount} trace{(TraceCount == 1 ? "" : "s")})";
}
