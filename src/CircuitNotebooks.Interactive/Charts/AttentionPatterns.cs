namespace CircuitNotebooks.Interactive.Charts;

/// <summary>One head's attention pattern: queries down, keys across, probabilities on a fixed 0..1 scale.</summary>
public static class AttentionPatterns
{
    /// <summary>pattern[query, key] (rows should sum to 1; masked cells 0) with one token per position.</summary>
    public static Chart Pattern(double[,] pattern, IReadOnlyList<string> tokens, string title = "Attention pattern")
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var (q, k) = (pattern.GetLength(0), pattern.GetLength(1));
        if (q != tokens.Count || k != tokens.Count)
            throw new ArgumentException($"pattern has shape [{q}, {k}] but {tokens.Count} tokens were given; expected [{tokens.Count}, {tokens.Count}]", nameof(pattern));
        var labels = Labels.Tokens(tokens);
        var chart = Heatmaps.Grid(pattern, labels, labels, ChartColors.Sequential, 0.0, 1.0, "p",
                                  "query %{y}<br>key %{x}<br>p = %{z:.3f}<extra></extra>");
        PlotlyProps.Titles(chart.Layout, title, "key", "query");
        var side = Math.Clamp(180 + 34 * q, 360, 900);
        PlotlyProps.Size(chart.Layout, PlotlyProps.FitTitle(side + 80, title), side);
        return chart;
    }
}
