using Plotly.NET;
using CsChart = Plotly.NET.CSharp.Chart;

namespace CircuitNotebooks.Interactive.Charts;

/// <summary>One named bar series aligned with the chart's categories.</summary>
public sealed record BarSeries(string Name, IReadOnlyList<double> Values);

/// <summary>Grouped bar charts: method comparisons (LoRA vs CircuitLoRA) and per-layer changes.</summary>
public static class Bars
{
    /// <summary>One group of bars per category, one bar per series.</summary>
    public static GenericChart Grouped(IReadOnlyList<string> categories, IReadOnlyList<BarSeries> series, string title, string yTitle,
                                       string xTitle = "")
    {
        if (series.Count == 0) throw new ArgumentException("at least one series is required", nameof(series));
        var keys = Labels.Unique(categories);
        var charts = new List<GenericChart>();
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            if (s.Values.Count != categories.Count)
                throw new ArgumentException($"series '{s.Name}' has {s.Values.Count} values but there are {categories.Count} categories", nameof(series));
            charts.Add(CsChart.Column<double, string, string>(values: s.Values, Keys: keys, Name: s.Name,
                                                               MarkerColor: Color.fromString(ChartColors.Series[i % ChartColors.Series.Length])));
        }
        var chart = CsChart.Combine(charts);
        return PlotlyProps.Layout(chart, l =>
        {
            PlotlyProps.Titles(l, title, xTitle, yTitle);
            l.SetProperty("barmode", "group");
            PlotlyProps.Size(l, PlotlyProps.FitTitle(Math.Clamp(200 + 60 * categories.Count * series.Count, 480, 1000), title), 440);
        });
    }

    /// <summary>LoRA vs CircuitLoRA on each metric (accuracy, faithfulness, trainable parameters, …).</summary>
    public static GenericChart LoraComparison(IReadOnlyList<string> metrics, IReadOnlyList<double> lora, IReadOnlyList<double> circuitLora,
                                              string title = "LoRA vs CircuitLoRA", string yTitle = "value") =>
        Grouped(metrics, [new("LoRA", lora), new("CircuitLoRA", circuitLora)], title, yTitle);

    /// <summary>Signed change per layer (e.g. edges gained − lost); bars coloured by sign.</summary>
    public static GenericChart PerLayerEdgeChange(IReadOnlyList<double> changePerLayer, string title = "Edge change per layer",
                                                  string yTitle = "Δ edges")
    {
        var layers = Heatmaps.LayerLabels(changePerLayer.Count);
        var chart = CsChart.Column<double, string, string>(values: changePerLayer, Keys: layers, Name: yTitle);
        PlotlyProps.Traces(chart, t => t.SetProperty("marker",
            new { color = changePerLayer.Select(v => v < 0 ? ChartColors.Negative : ChartColors.Positive).ToArray() }));
        return PlotlyProps.Layout(chart, l =>
        {
            PlotlyProps.Titles(l, title, "layer", yTitle);
            PlotlyProps.Size(l, PlotlyProps.FitTitle(Math.Clamp(200 + 40 * changePerLayer.Count, 420, 1000), title), 400);
        });
    }
}
