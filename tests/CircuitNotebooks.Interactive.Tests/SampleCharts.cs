using CircuitNotebooks.Interactive.Charts;

namespace CircuitNotebooks.Interactive.Tests;

/// <summary>One of each chart, with small hand-made data.</summary>
internal static class SampleCharts
{
    public static readonly string[] Tokens = ["When", " Mary", " and", " John", " went", " to", " the", " store", ",", " John", " gave"];

    public static double[,] LayerByPosition()
    {
        var v = new double[4, Tokens.Length];
        for (var l = 0; l < 4; l++)
            for (var p = 0; p < Tokens.Length; p++) v[l, p] = Math.Sin(l + 0.7 * p) * (l + 1) / 4.0;
        return v;
    }

    public static double[,] Pattern()
    {
        var n = Tokens.Length;
        var v = new double[n, n];
        for (var q = 0; q < n; q++)
        {
            var total = 0.0;
            for (var k = 0; k <= q; k++) total += Math.Exp(-(q - k) / 2.0);
            for (var k = 0; k <= q; k++) v[q, k] = Math.Exp(-(q - k) / 2.0) / total;
        }
        return v;
    }

    public static (GraphNode[] Nodes, GraphEdge[] Edges) Graph()
    {
        GraphNode[] nodes =
        [
            new("input", -1, 1), new("a0.h0", 0, 0), new("a0.h1", 0, 1), new("m0", 0, 2),
            new("a1.h0", 1, 0.5), new("m1", 1, 1.5), new("logits", 2, 1),
        ];
        GraphEdge[] edges =
        [
            new("input", "a0.h0", 0.9, EdgeInput.Q), new("input", "a0.h1", -0.4, EdgeInput.K), new("input", "m0", 0.3),
            new("a0.h0", "a1.h0", 0.7, EdgeInput.V), new("a0.h1", "a1.h0", -0.2, EdgeInput.K), new("m0", "m1", 0.5),
            new("a1.h0", "logits", 1.0), new("m1", "logits", -0.6),
        ];
        return (nodes, edges);
    }

    public static IReadOnlyList<(string Name, Chart Chart)> All()
    {
        var (nodes, edges) = Graph();
        double[] steps = [0, 100, 200, 300, 400, 500];
        return
        [
            ("layer x position", Heatmaps.LayerByPosition(LayerByPosition(), Tokens, "Residual patching")),
            ("layer x head", Heatmaps.LayerByHead(new double[,] { { 0.1, -0.3, 0.05 }, { 0.6, 0.0, -0.9 } }, "Head attribution")),
            ("attention", AttentionPatterns.Pattern(Pattern(), Tokens, "L1H0 pattern")),
            ("similarity", LineCurves.SimilarityOverCheckpoints(steps, [1, 0.9, 0.85, 0.8, 0.8, 0.79], [1, 0.7, 0.6, 0.55, 0.52, 0.5])),
            ("faithfulness", LineCurves.FaithfulnessVsEdgeBudget([10, 30, 100, 300, 1000],
                [new("EAP", [0.2, 0.45, 0.7, 0.85, 0.95]), new("EAP-IG", [0.3, 0.6, 0.82, 0.93, 0.98])])),
            ("training", LineCurves.TrainingCurves(steps, [3.2, 2.1, 1.5, 1.2, 1.1, 1.05], [0.1, 0.4, 0.6, 0.72, 0.78, 0.8])),
            ("lora", Bars.LoraComparison(["accuracy", "faithfulness"], [0.81, 0.62], [0.83, 0.74])),
            ("edge change", Bars.PerLayerEdgeChange([3, -2, 5, 0, -4])),
            ("graph", CircuitGraphChart.Create(nodes, edges, "Toy circuit")),
        ];
    }
}
