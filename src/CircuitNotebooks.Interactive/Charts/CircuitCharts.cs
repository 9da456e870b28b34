using System.Globalization;
using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.FineTuning;
using CircuitNotebooks.Patching;
using System.Text.Json.Nodes;

namespace CircuitNotebooks.Interactive.Charts;

/// <summary>Charts straight from the engine's result types (circuits, comparisons, patching grids, training runs).</summary>
public static class CircuitCharts
{
    /// <summary>Default cap on drawn edges: beyond ~100 lines a circuit drawing stops being readable.</summary>
    public const int DefaultMaxEdges = 100;

    /// <summary>
    /// The circuit's in-circuit edges (the <paramref name="maxEdges"/> strongest by |score|) drawn by layer: <c>input</c>
    /// at the bottom, heads of layer l in row l with the MLP beside them (half a row up when the MLP reads the heads of
    /// its own layer), <c>logits</c> on top. Only nodes touched by a drawn edge are shown.
    /// </summary>
    public static Chart Graph(Circuit circuit, int maxEdges = DefaultMaxEdges, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(circuit);
        if (maxEdges < 1) throw new ArgumentOutOfRangeException(nameof(maxEdges), $"maxEdges must be ≥ 1 (got {maxEdges}).");
        var layout = circuit.Graph;
        var graph = circuit.Graph;
        var drawn = circuit.EdgesInCircuit().OrderByDescending(e => Math.Abs(e.Score)).ThenBy(e => e.Name, StringComparer.Ordinal)
            .Take(maxEdges).ToList();
        var used = new HashSet<int> { graph.InputNode, graph.LogitsNode };
        foreach (var e in drawn)
        {
            used.Add(e.Forward);
            used.Add(layout.BackwardNode(e.Destination));
        }
        var nodes = used.Order().Select(n => NodePlacement(graph, n)).ToList();
        var edges = drawn.Select(e => new GraphEdge(graph.ForwardNames[e.Forward], graph.NodeNames[layout.BackwardNode(e.Destination)], e.Score,
            InputOf(layout.BackwardNames[e.Destination]))).ToList();
        int total = circuit.EdgeCountInCircuit;
        title ??= (circuit.Metadata.Label is { } label ? $"Circuit ({label})" : "Circuit") +
                  $": {circuit.NodeCountInCircuit} nodes, {total} edges" + (drawn.Count < total ? $" (strongest {drawn.Count} drawn)" : "");
        var chart = CircuitGraphChart.Create(nodes, edges, title);
        // Every layer gets a named row (input, L0 … L{n-1}, logits), also the ones no drawn node sits in.
        var rows = Enumerable.Range(-1, graph.NLayers + 2).Select(l => (double)l).ToArray();
        var names = rows.Select(l => l < 0 ? "input" : l >= graph.NLayers ? "logits" : "L" + l.ToString(CultureInfo.InvariantCulture)).ToArray();
        var y = PlotlyProps.Axis(chart.Layout, "yaxis");
        y["tickvals"] = PlotlyProps.Numbers(rows);
        y["ticktext"] = PlotlyProps.Strings(names);
        y["range"] = new JsonArray(-1.6, graph.NLayers + 0.6);
        y["title"] = new JsonObject { ["text"] = "" };
        return chart;
    }

    /// <summary>Where a node sits in <see cref="Graph"/>: y = layer, x = head index centred, MLP to the right of the heads.</summary>
    public static GraphNode NodePlacement(CircuitGraph graph, int node)
    {
        var name = graph.NodeNames[node];
        return graph.KindOf(node) switch
        {
            NodeKind.Input => new GraphNode(name, -1, 0),
            NodeKind.Logits => new GraphNode(name, graph.NLayers, 0),
            NodeKind.Mlp => new GraphNode(name, graph.LayerOf(node) + (graph.ParallelAttnMlp ? 0 : 0.5), (graph.NHeads + 1) / 2.0),
            _ => new GraphNode(name, graph.LayerOf(node), (node - graph.HeadIndex(graph.LayerOf(node), 0)) - (graph.NHeads - 1) / 2.0),
        };
    }

    private static EdgeInput InputOf(string destinationName) =>
        destinationName.EndsWith("<q>", StringComparison.Ordinal) ? EdgeInput.Q
        : destinationName.EndsWith("<k>", StringComparison.Ordinal) ? EdgeInput.K
        : destinationName.EndsWith("<v>", StringComparison.Ordinal) ? EdgeInput.V
        : EdgeInput.None;

    /// <summary>The paper's main figure: node and edge Jaccard of each circuit against the first, over checkpoints.</summary>
    /// <param name="x">x value per circuit (e.g. training steps), including the first; default 0, 1, 2, ….</param>
    public static Chart Similarity(CircuitSeriesComparison series, IReadOnlyList<double>? x = null,
        string title = "Circuit similarity to the base model's circuit", string xTitle = "checkpoint (step)")
    {
        ArgumentNullException.ThrowIfNull(series);
        int n = series.VsBase.Count + 1;
        x ??= Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        if (x.Count != n) throw new ArgumentException($"x has {x.Count} values for {n} circuits.", nameof(x));
        return LineCurves.SimilarityOverCheckpoints(x, [1.0, .. series.VsBase.Select(d => d.NodeJaccard)],
            [1.0, .. series.VsBase.Select(d => d.EdgeJaccard)], title, xTitle);
    }

    /// <summary>Node and edge membership changes between consecutive circuits (transitions 1..n−1).</summary>
    public static Chart ChangesPerTransition(CircuitSeriesComparison series, IReadOnlyList<double>? x = null,
        string title = "Circuit changes between consecutive checkpoints", string xTitle = "checkpoint (step)")
    {
        int n = series.VsPrevious.Count;
        var xs = x is null ? Enumerable.Range(1, n).Select(i => (double)i).ToArray() : x.Skip(1).ToArray();
        if (xs.Length != n) throw new ArgumentException($"x has {x!.Count} values for {n + 1} circuits.", nameof(x));
        return LineCurves.Create(xs, [new("node changes", series.VsPrevious.Select(d => (double)d.NodeChanges).ToList()),
                                      new("edge changes", series.VsPrevious.Select(d => (double)d.EdgeChanges).ToList(), Dashed: true)],
            title, xTitle, "added + removed");
    }

    /// <summary>Faithfulness of the top-n circuit against n (one curve; add more with <see cref="LineCurves.FaithfulnessVsEdgeBudget"/>).</summary>
    public static Chart Faithfulness(IReadOnlyList<FaithfulnessResult> curve, string name = "EAP-IG",
        string title = "Faithfulness vs edge budget") =>
        LineCurves.FaithfulnessVsEdgeBudget(curve.Select(r => (double)r.EdgeCount).ToList(), [new(name, curve.Select(r => r.Normalized).ToList())], title);

    /// <summary>A patching grid as a diverging heatmap (white = no effect).</summary>
    public static Chart Heatmap(PatchingResult result) =>
        Heatmaps.Diverging(result.Values, result.RowLabels, result.ColumnAxis == "position" ? Labels.Tokens(result.ColumnLabels) : result.ColumnLabels, result.Title, result.ColumnAxis, result.RowAxis, result.Metric);

    /// <summary>Training loss per step; with evaluations, a second chart of accuracy at the evaluated steps.</summary>
    public static IReadOnlyList<Chart> Training(TrainingResult run, string title = "Training")
    {
        var charts = new List<Chart>();
        if (run.Losses.Count > 0)
            charts.Add(LineCurves.Create(Enumerable.Range(1, run.Losses.Count).Select(s => (double)s).ToList(),
                [new("train loss", run.Losses)], title + ": loss", "step", "loss (answer tokens)"));
        if (run.EvalHistory.Count > 0)
            charts.Add(LineCurves.Create(run.EvalHistory.Select(e => (double)e.Step).ToList(),
                [new("eval accuracy", run.EvalHistory.Select(e => e.Accuracy).ToList())], title + ": accuracy", "step", "exact match"));
        return charts;
    }

    internal static string Invariant(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
