using DynamicObj;
using Plotly.NET;

namespace CircuitNotebooks.Interactive.Charts;

/// <summary>
/// Sets plotly.js attributes that Plotly.NET.CSharp does not expose (zmid, custom colour scales, shapes). Plotly.NET
/// objects are DynamicObj property bags serialised verbatim, so the names here are plotly.js attribute names.
/// </summary>
internal static class PlotlyProps
{
    public static GenericChart Traces(GenericChart chart, Action<Trace> set)
    {
        foreach (var trace in GenericChart.getTraces(chart)) set(trace);
        return chart;
    }

    public static GenericChart Layout(GenericChart chart, Action<Layout> set)
    {
        var layout = GenericChart.getLayout(chart);
        set(layout);
        return GenericChart.setLayout(layout, chart);
    }

    /// <summary>The axis object (e.g. "xaxis", "yaxis2"), created when the chart has none yet.</summary>
    public static DynamicObj.DynamicObj Axis(Layout layout, string name)
    {
        if (layout.TryGetPropertyValue(name) is { } some && some.Value is DynamicObj.DynamicObj existing) return existing;
        var axis = new DynamicObj.DynamicObj();
        layout.SetProperty(name, axis);
        return axis;
    }

    public static void Titles(Layout layout, string? title, string? xTitle, string? yTitle, string xAxis = "xaxis", string yAxis = "yaxis")
    {
        if (title != null) layout.SetProperty("title", new { text = title, x = 0.02 });
        if (xTitle != null) Axis(layout, xAxis).SetProperty("title", new { text = xTitle });
        if (yTitle != null) Axis(layout, yAxis).SetProperty("title", new { text = yTitle });
    }

    /// <summary>At least <paramref name="width"/>, widened (up to 1100 px) so a title of ~8 px per character is not cut off.</summary>
    public static int FitTitle(int width, string? title) =>
        title is null ? width : Math.Max(width, Math.Min(1100, 120 + 8 * title.Length));

    public static void Size(Layout layout, int width, int height)
    {
        layout.SetProperty("width", width);
        layout.SetProperty("height", height);
    }
}
