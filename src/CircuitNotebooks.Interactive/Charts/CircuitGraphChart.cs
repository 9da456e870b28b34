using System.Globalization;
using Plotly.NET;
using CsChart = Plotly.NET.CSharp.Chart;

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

    public static GenericChart Create(IReadOnlyList<GraphNode> nodes, IReadOnlyList<GraphEdge> edges, string title = "Circuit")
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
        var shapes = edges
            .OrderBy(e => Math.Abs(e.Score)) // strongest drawn last, on top
            .Select(e => new
            {
                type = "line",
                layer = "below",
                x0 = byName[e.From].Position, y0 = byName[e.From].Layer,
                x1 = byName[e.To].Position, y1 = byName[e.To].Layer,
                line = new { color = e.Score < 0 ? ChartColors.Negative : ChartColors.Positive, width = EdgeWidth(e.Score, maxAbs), dash = Dash(e.Input) },
                opacity = 0.85,
            })
            .ToArray();

        var nodeTrace = CsChart.Scatter<double, double, string>(
            x: nodes.Select(n => n.Position), y: nodes.Select(n => n.Layer), mode: StyleParam.Mode.Markers_Text,
            Name: "nodes", MultiText: nodes.Select(n => n.Name).ToArray(), TextPosition: StyleParam.TextPosition.TopCenter,
            MarkerColor: Color.fromString("#444444"));
        PlotlyProps.Traces(nodeTrace, t =>
        {
            t.SetProperty("marker", new { color = "#ffffff", size = 14, line = new { color = "#333333", width = 1.5 } });
            t.SetProperty("hovertemplate", "%{text}<extra></extra>");
        });

        // Shapes have no legend entries: empty traces carry the encoding key.
        var legend = new List<GenericChart> { nodeTrace };
        legend.Add(LegendLine("positive", ChartColors.Positive, "solid"));
        legend.Add(LegendLine("negative", ChartColors.Negative, "solid"));
        foreach (var input in edges.Select(e => e.Input).Where(k => k != EdgeInput.None).Distinct().OrderBy(k => k))
            legend.Add(LegendLine($"→ {input.ToString().ToLowerInvariant()} input", "#555555", Dash(input)));

        var chart = CsChart.Combine(legend);
        var layers = nodes.Select(n => n.Layer).Distinct().Order().ToArray();
        var widest = nodes.GroupBy(n => n.Layer).Max(g => g.Count());
        return PlotlyProps.Layout(chart, l =>
        {
            PlotlyProps.Titles(l, title, null, "layer");
            l.SetProperty("shapes", shapes);
            l.SetProperty("plot_bgcolor", "#ffffff");
            PlotlyProps.Axis(l, "xaxis").SetProperty("visible", false);
            var y = PlotlyProps.Axis(l, "yaxis");
            y.SetProperty("tickvals", layers);
            y.SetProperty("ticktext", layers.Select(v => v.ToString("0.##", CultureInfo.InvariantCulture)).ToArray());
            y.SetProperty("zeroline", false);
            y.SetProperty("gridcolor", "#eeeeee"); // plotly's default white grid would cut gaps into the edge lines
            y.SetProperty("range", new[] { layers[0] - 0.6, layers[^1] + 0.6 });
            PlotlyProps.Size(l, PlotlyProps.FitTitle(Math.Clamp(260 + 110 * widest, 560, 1100), title), Math.Clamp(160 + 110 * layers.Length, 400, 1400));
        });
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

    private static GenericChart LegendLine(string name, string color, string dash)
    {
        var chart = CsChart.Line<double, double, string>(x: [0.0], y: [0.0], Name: name, ShowLegend: true);
        PlotlyProps.Traces(chart, t =>
        {
            // One null point: plotly lists the trace in the legend but draws nothing (an empty trace gets no entry).
            t.SetProperty("x", new double?[] { null });
            t.SetProperty("y", new double?[] { null });
            t.SetProperty("line", new { color, width = 3, dash });
            t.SetProperty("hoverinfo", "skip");
        });
        return chart;
    }
}
