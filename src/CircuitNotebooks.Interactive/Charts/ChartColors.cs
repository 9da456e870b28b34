using System.Text.Json.Nodes;

namespace CircuitNotebooks.Interactive.Charts;

/// <summary>Colours shared by all charts so a sign means the same thing everywhere: blue positive, red negative.</summary>
public static class ChartColors
{
    public const string Positive = "#2166ac";
    public const string Negative = "#b2182b";
    public const string Neutral = "#f7f7f7";

    /// <summary>Diverging scale for values symmetric around zero (blue = positive, red = negative, white = 0).</summary>
    internal static JsonArray Diverging =>
        PlotlyProps.ColorScale((0.0, Negative), (0.25, "#ef8a62"), (0.5, Neutral), (0.75, "#67a9cf"), (1.0, Positive));

    /// <summary>Sequential white-to-blue scale for probabilities (attention patterns).</summary>
    internal static JsonArray Sequential => PlotlyProps.ColorScale((0.0, "#ffffff"), (0.5, "#6baed6"), (1.0, "#08306b"));

    /// <summary>Categorical palette for line/bar series.</summary>
    public static readonly string[] Series = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
}
