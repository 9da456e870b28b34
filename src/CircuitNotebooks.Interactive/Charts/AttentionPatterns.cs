using Plotly.NET;
using CsChart = Plotly.NET.CSharp.Chart;

namespace CircuitNotebooks.Interactive.Charts;

/// <summary>One head's attention pattern: queries down, keys across, probabilities on a fixed 0..1 scale.</summary>
public static class AttentionPatterns
{
    /// <summary>pattern[query, key] (rows should sum to 1; masked cells 0) with one token per position.</summary>
    public static GenericChart Pattern(double[,] pattern, IReadOnlyList<string> tokens, string title = "Attention pattern")
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var (q, k) = (pattern.GetLength(0), pattern.GetLength(1));
        if (q != tokens.Count || k != tokens.Count)
            throw new ArgumentException($"pattern has shape [{q}, {k}] but {tokens.Count} tokens were given; expected [{tokens.Count}, {tokens.Count}]", nameof(pattern));
        var labels = Labels.Tokens(tokens);
        var z = Heatmaps.ToRows(pattern);
        var chart = CsChart.Heatmap<double, string, string, string>(zData: Heatmaps.Placeholder(z), X: labels, Y: labels, ReverseYAxis: true);
        PlotlyProps.Traces(chart, t =>
        {
            t.SetProperty("z", z);
            t.SetProperty("colorscale", ChartColors.Sequential);
            t.SetProperty("zmin", 0.0);
            t.SetProperty("zmax", 1.0);
            t.SetProperty("colorbar", new { title = new { text = "p" } });
            t.SetProperty("hovertemplate", "query %{y}<br>key %{x}<br>p = %{z:.3f}<extra></extra>");
        });
        return PlotlyProps.Layout(chart, l =>
        {
            PlotlyProps.Titles(l, title, "key", "query");
            PlotlyProps.Axis(l, "xaxis").SetProperty("type", "category");
            PlotlyProps.Axis(l, "yaxis").SetProperty("type", "category");
            var side = Math.Clamp(180 + 34 * q, 360, 900);
            PlotlyProps.Size(l, PlotlyProps.FitTitle(side + 80, title), side);
        });
    }
}
