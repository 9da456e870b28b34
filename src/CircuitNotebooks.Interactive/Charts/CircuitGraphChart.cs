using System.Globalization;
using System.Text.Json.Nodes;

namespace CircuitNotebooks.Interactive.Charts;

/// <summary>A node of a circuit drawing: y is its layer, x its slot within the layer.</summary>
public sealed record GraphNode(string Name, double Layer, double Position);

/// <summary>Which input of the downstream attention head an edge feeds (None for MLP/logits inputs).</summary>
public enum EdgeInput
{
    None,
    Q,
    K,
    V,
}

/// <summary>A scored edge between two nodes by name.</summary>
public sealed record GraphEdge(string From, string To, double Score, EdgeInput Input = EdgeInput.None);

/// <summary>
/// Circuit graph: nodes placed by layer (input at the bottom, logits at the top), edges as line shapes whose width
/// is proportional to |score| (relative to the largest), coloured by sign (blue positive, red negative) and dashed by
/// the q/k/v input they feed.
/// </summary>
public static class CircuitGraphChart
{
    public const double MinWidth = 0.75;
    public const double MaxWidth = 6.0;

    public static Chart Create(IReadOnlyList<GraphNode> nodes, IReadOnlyList<GraphEdge> edges, string title = "Circuit")
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(edges);
        if (nodes.Count == 0) throw new ArgumentException("a circuit graph needs at least one node", nameof(nodes));
        var byName = new Dictionary<string, GraphNode>(StringComparer.Ordinal);
        foreach (var n in nodes)
            if (!byName.TryAdd(n.Name, n)) throw new ArgumentException($"duplicate node name '{n.Name}'", nameof(nodes));
        for (var i = 0; i < edges.Count; i++)
        {
            var e = edges[i];
            if (!byName.ContainsKey(e.From)) throw new ArgumentException($"edge {i} ({e.From}->{e.To}) starts at unknown node '{e.From}'", nameof(edges));
            if (!byName.ContainsKey(e.To)) throw new ArgumentException($"edge {i} ({e.From}->{e.To}) ends at unknown node '{e.To}'", nameof(edges));
            if (!double.IsFinite(e.Score)) throw new ArgumentException($"edge {i} ({e.From}->{e.To}) has non-finite score {e.Score}", nameof(edges));
        }

        var maxAbs = edges.Count == 0 ? 1.0 : Math.Max(edges.Max(e => Math.Abs(e.Score)), double.Epsilon);
        var shapes = new JsonArray(edges
            .OrderBy(e => Math.Abs(e.Score)) // strongest drawn last, on top
            .Select(e => (JsonNode?)new JsonObject
            {
                ["type"] = "line",
                ["layer"] = "below",
                ["x0"] = byName[e.From].Position, ["y0"] = byName[e.From].Layer,
                ["x1"] = byName[e.To].Position, ["y1"] = byName[e.To].Layer,
                ["line"] = new JsonObject
                {
                    ["color"] = e.Score < 0 ? ChartColors.Negative : ChartColors.Positive,
                    ["width"] = EdgeWidth(e.Score, maxAbs),
                    ["dash"] = Dash(e.Input),
                },
                ["opacity"] = 0.85,
            })
            .ToArray());

        var chart = new Chart().Add(new JsonObject
        {
            ["type"] = "scatter",
            ["mode"] = "markers+text",
            ["name"] = "nodes",
            ["x"] = PlotlyProps.Numbers(nodes.Select(n => n.Position)),
            ["y"] = PlotlyProps.Numbers(nodes.Select(n => n.Layer)),
            ["text"] = PlotlyProps.Strings(nodes.Select(n => n.Name)),
            ["textposition"] = "top center",
            ["marker"] = new JsonObject
            {
                ["color"] = "#ffffff", ["size"] = 14, ["line"] = new JsonObject { ["color"] = "#333333", ["width"] = 1.5 },
            },
            ["hovertemplate"] = "%{text}<extra></extra>",
        });

        // Shapes have no legend entries: empty traces carry the encoding key.
        chart.Add(LegendLine("positive", ChartColors.Positive, "solid"));
        chart.Add(LegendLine("negative", ChartColors.Negative, "solid"));
        foreach (var input in edges.Select(e => e.Input).Where(k => k != EdgeInput.None).Distinct().OrderBy(k => k))
            chart.Add(LegendLine($"→ {input.ToString().ToLowerInvariant()} input", "#555555", Dash(input)));

        var layers = nodes.Select(n => n.Layer).Distinct().Order().ToArray();
        var widest = nodes.GroupBy(n => n.Layer).Max(g => g.Count());
        var l = chart.Layout;
        PlotlyProps.Titles(l, title, null, "layer");
        l["shapes"] = shapes;
        l["plot_bgcolor"] = "#ffffff";
        PlotlyProps.Axis(l, "xaxis")["visible"] = false;
        var y = PlotlyProps.Axis(l, "yaxis");
        y["tickvals"] = PlotlyProps.Numbers(layers);
        y["ticktext"] = PlotlyProps.Strings(layers.Select(v => v.ToString("0.##", CultureInfo.InvariantCulture)));
        y["zeroline"] = false;
        y["gridcolor"] = "#eeeeee"; // plotly's default white grid would cut gaps into the edge lines
        y["range"] = new JsonArray(layers[0] - 0.6, layers[^1] + 0.6);
        PlotlyProps.Size(l, PlotlyProps.FitTitle(Math.Clamp(260 + 110 * widest, 560, 1100), title), Math.Clamp(160 + 110 * layers.Length, 400, 1400));
        return chart;
    }

    /// <summary>Line width for an edge: linear in |score| from <see cref="MinWidth"/> to <see cref="MaxWidth"/>.</summary>
    public static double EdgeWidth(double score, double maxAbsScore) =>
        MinWidth + (MaxWidth - MinWidth) * Math.Abs(score) / maxAbsScore;

    /// <summary>plotly dash style per input: q dashed, k dotted, v dash-dot, others solid.</summary>
    public static string Dash(EdgeInput input) => input switch
    {
        EdgeInput.Q => "dash",
        EdgeInput.K => "dot",
        EdgeInput.V => "dashdot",
        _ => "solid",
    };

    /// <summary>One null point: plotly lists the trace in the legend but draws nothing (an empty trace gets no entry).</summary>
    private static JsonObject LegendLine(string name, string color, string dash) => new()
    {
        ["type"] = "scatter",
        ["mode"] = "lines",
        ["name"] = name,
        ["showlegend"] = true,
        ["x"] = new JsonArray((JsonNode?)null),
        ["y"] = new JsonArray((JsonNode?)null),
        ["line"] = new JsonObject { ["color"] = color, ["width"] = 3, ["dash"] = dash },
        ["hoverinfo"] = "skip",
    };
}
