using System.Text.Json.Nodes;

namespace CircuitNotebooks.Interactive.Charts;

/// <summary>One named bar series aligned with the chart's categories; optional error bars (e.g. a 95 % interval half-width).</summary>
public sealed record BarSeries(string Name, IReadOnlyList<double> Values, IReadOnlyList<double>? Errors = null);

/// <summary>Grouped bar charts: method comparisons (LoRA vs CircuitLoRA) and per-layer changes.</summary>
public static class Bars
{
    /// <summary>One group of bars per category, one bar per series.</summary>
    public static Chart Grouped(IReadOnlyList<string> categories, IReadOnlyList<BarSeries> series, string title, string yTitle,
                                string xTitle = "")
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0) throw new ArgumentException("at least one series is required", nameof(series));
        var keys = PlotlyProps.Strings(Labels.Unique(categories));
        var chart = new Chart();
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            if (s.Values.Count != categories.Count)
                throw new ArgumentException($"series '{s.Name}' has {s.Values.Count} values but there are {categories.Count} categories", nameof(series));
            var trace = new JsonObject
            {
                ["type"] = "bar",
                ["name"] = s.Name,
                ["x"] = keys.DeepClone(),
                ["y"] = PlotlyProps.Numbers(s.Values),
                ["marker"] = new JsonObject { ["color"] = ChartColors.Series[i % ChartColors.Series.Length] },
            };
            if (s.Errors is { } errors)
            {
                if (errors.Count != s.Values.Count)
                    throw new ArgumentException($"series '{s.Name}' has {errors.Count} errors for {s.Values.Count} values", nameof(series));
                trace["error_y"] = new JsonObject { ["type"] = "data", ["array"] = PlotlyProps.Numbers(errors), ["visible"] = true };
            }
            chart.Add(trace);
        }
        PlotlyProps.Titles(chart.Layout, title, xTitle, yTitle);
        chart.Layout["barmode"] = "group";
        PlotlyProps.Size(chart.Layout, PlotlyProps.FitTitle(Math.Clamp(200 + 60 * categories.Count * series.Count, 480, 1000), title), 440);
        return chart;
    }

    /// <summary>LoRA vs CircuitLoRA on each metric (accuracy, faithfulness, trainable parameters, …).</summary>
    public static Chart LoraComparison(IReadOnlyList<string> metrics, IReadOnlyList<double> lora, IReadOnlyList<double> circuitLora,
                                       string title = "LoRA vs CircuitLoRA", string yTitle = "value") =>
        Grouped(metrics, [new("LoRA", lora), new("CircuitLoRA", circuitLora)], title, yTitle);

    /// <summary>Signed change per layer (e.g. edges gained − lost); bars coloured by sign.</summary>
    public static Chart PerLayerEdgeChange(IReadOnlyList<double> changePerLayer, string title = "Edge change per layer",
                                           string yTitle = "Δ edges")
    {
        var chart = new Chart().Add(new JsonObject
        {
            ["type"] = "bar",
            ["name"] = yTitle,
            ["x"] = PlotlyProps.Strings(Heatmaps.LayerLabels(changePerLayer.Count)),
            ["y"] = PlotlyProps.Numbers(changePerLayer),
            ["marker"] = new JsonObject
            {
                ["color"] = PlotlyProps.Strings(changePerLayer.Select(v => v < 0 ? ChartColors.Negative : ChartColors.Positive)),
            },
        });
        PlotlyProps.Titles(chart.Layout, title, "layer", yTitle);
        PlotlyProps.Size(chart.Layout, PlotlyProps.FitTitle(Math.Clamp(200 + 40 * changePerLayer.Count, 420, 1000), title), 400);
        return chart;
    }
}
