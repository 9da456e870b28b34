using System.Globalization;
using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.FineTuning;
using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;

namespace CircuitNotebooks.Interactive;

/// <summary>
/// Every engine result as a <see cref="Table"/> (one row per item, one column per field): for tables in a notebook,
/// further analysis, and CSV export with <see cref="Table.WriteCsv"/>. Missing numbers are NaN.
/// </summary>
public static class ResultTables
{
    /// <summary>fact, value.</summary>
    public static Table ToTable(this ResultSummary summary) =>
        Table.FromRecords(summary.Facts.Select(f => new { fact = f.Key, value = f.Value }));

    /// <summary>The model's summary facts (architecture, shapes, parameters, device, dtype, …).</summary>
    public static Table ToTable(this HookedTransformer model) => model.Summarize().ToTable();

    /// <summary>Hook points in forward order: name, layer (−1 outside blocks).</summary>
    public static Table HookTable(this HookedTransformer model) =>
        Table.FromRecords(model.HookPoints.Select(h => new { name = h.Name, layer = LayerOf(h.Name) }));

    /// <summary>name, shape ("[1, 7, 128]"), rank, elements.</summary>
    public static Table ToTable(this ActivationCache cache) =>
        Table.FromRecords(cache.Shapes.Select(kv => new
        {
            name = kv.Key,
            shape = "[" + string.Join(", ", kv.Value) + "]",
            rank = kv.Value.Length,
            elements = kv.Value.Aggregate(1L, (a, b) => a * b),
        }));

    /// <summary>Long format: row, column (labels), row_index, column_index, value.</summary>
    public static Table ToTable(this PatchingResult result) =>
        Table.FromRecords(Enumerable.Range(0, result.Rows).SelectMany(r => Enumerable.Range(0, result.Columns).Select(c => new
        {
            row = result.RowLabels[r],
            column = result.ColumnLabels[c],
            row_index = r,
            column_index = c,
            value = result.Values[r, c],
        })));

    /// <summary>
    /// Edges: edge, source, destination, input (q/k/v or empty), source_layer, score, in_circuit. By default only
    /// in-circuit edges; <paramref name="allEdges"/> lists every real edge of the graph.
    /// </summary>
    public static Table ToTable(this Circuit circuit, bool allEdges = false)
    {
        var layout = circuit.Graph;
        var graph = circuit.Graph;
        var indices = allEdges ? layout.RealEdges() : Enumerable.Range(0, layout.DenseLength).Where(i => circuit.EdgeMask[i]);
        return Table.FromRecords(indices.Select(i =>
        {
            int f = layout.ForwardOf(i), d = layout.BackwardOf(i);
            var dest = layout.BackwardNames[d];
            int lt = dest.IndexOf('<');
            return new
            {
                edge = layout.EdgeName(f, d),
                source = graph.ForwardNames[f],
                destination = graph.NodeNames[layout.BackwardNode(d)],
                input = lt < 0 ? "" : dest[(lt + 1)..^1],
                source_layer = graph.LayerOf(f),
                score = (double)circuit.Scores[i],
                in_circuit = circuit.EdgeMask[i],
            };
        }));
    }

    /// <summary>Nodes of the graph: node, kind, layer, in_circuit.</summary>
    public static Table NodeTable(this Circuit circuit) =>
        Table.FromRecords(Enumerable.Range(0, circuit.Graph.NodeCount).Select(n => new
        {
            node = circuit.Graph.NodeNames[n],
            kind = circuit.Graph.KindOf(n).ToString(),
            layer = circuit.Graph.LayerOf(n),
            in_circuit = circuit.NodeMask[n],
        }));

    /// <summary>Every real edge with its attribution score: edge, score, abs_score.</summary>
    public static Table ToTable(this EdgeScores scores) =>
        Table.FromRecords(Enumerable.Range(0, scores.Scores.Length).Where(i => scores.Graph.IsRealEdge(i)).Select(i => new
        {
            edge = scores.Graph.EdgeName(i),
            score = (double)scores.Scores[i],
            abs_score = Math.Abs((double)scores.Scores[i]),
        }));

    /// <summary>Per-layer change counts: layer, nodes_added, nodes_removed, edges_added, edges_removed.</summary>
    public static Table ToTable(this CircuitDiff diff) =>
        Table.FromRecords(diff.PerLayer.Select(l => new
        {
            layer = l.Layer,
            nodes_added = l.NodesAdded,
            nodes_removed = l.NodesRemoved,
            edges_added = l.EdgesAdded,
            edges_removed = l.EdgesRemoved,
        }));

    /// <summary>
    /// One row per circuit (the first included, compared with itself): index, label, nodes, edges, node/edge Jaccard vs
    /// the first circuit and vs the previous one, node/edge changes from the previous one.
    /// </summary>
    public static Table ToTable(this CircuitSeriesComparison series)
    {
        var rows = new List<SeriesRow>();
        if (series.VsBase.Count > 0)
        {
            var first = series.VsBase[0];
            rows.Add(new SeriesRow(0, first.FromLabel, first.NodesFrom, first.EdgesFrom, 1, 1, 1, 1, 0, 0));
        }
        for (int i = 0; i < series.VsBase.Count; i++)
        {
            var b = series.VsBase[i];
            var p = series.VsPrevious[i];
            rows.Add(new SeriesRow(b.ToIndex, b.ToLabel, b.NodesTo, b.EdgesTo, b.NodeJaccard, b.EdgeJaccard, p.NodeJaccard, p.EdgeJaccard,
                p.NodeChanges, p.EdgeChanges));
        }
        return Table.FromRecords(rows);
    }

    /// <summary>step, loss, seconds, eval_accuracy (NaN on steps without an evaluation; step 0 only when evaluated).</summary>
    public static Table ToTable(this TrainingResult run)
    {
        var evals = run.EvalHistory.ToDictionary(e => e.Step, e => e.Accuracy);
        var rows = new List<TrainingRow>();
        if (evals.TryGetValue(0, out var acc0)) rows.Add(new TrainingRow(0, double.NaN, double.NaN, acc0));
        int offset = run.Losses.Count - run.StepSeconds.Count; // seconds exist only for steps run by this call
        for (int i = 0; i < run.Losses.Count; i++)
        {
            int step = i + 1;
            rows.Add(new TrainingRow(step, run.Losses[i], i - offset >= 0 ? run.StepSeconds[i - offset] : double.NaN,
                evals.TryGetValue(step, out var a) ? a : double.NaN));
        }
        return Table.FromRecords(rows);
    }

    /// <summary>A faithfulness curve: edges, clean, corrupted, circuit, normalized.</summary>
    public static Table ToTable(this IEnumerable<FaithfulnessResult> curve) =>
        Table.FromRecords(curve.Select(r => new
        {
            edges = r.EdgeCount,
            clean = r.Clean,
            corrupted = r.Corrupted,
            circuit = r.Circuit,
            normalized = r.Normalized,
        }));

    /// <summary>layer, rank, alpha, critical.</summary>
    public static Table ToTable(this LoraRankPlan plan) =>
        Table.FromRecords(plan.Layers.OrderBy(kv => kv.Key).Select(kv => new
        {
            layer = kv.Key,
            rank = kv.Value.Rank,
            alpha = kv.Value.Alpha,
            critical = kv.Value.Critical,
        }));

    private static int LayerOf(string hookName)
    {
        if (!hookName.StartsWith("blocks.", StringComparison.Ordinal)) return -1;
        var end = hookName.IndexOf('.', 7);
        return int.Parse(hookName.AsSpan(7, end - 7), CultureInfo.InvariantCulture);
    }

    private sealed record SeriesRow(int index, string label, int nodes, int edges, double node_jaccard_vs_first, double edge_jaccard_vs_first,
        double node_jaccard_vs_previous, double edge_jaccard_vs_previous, int node_changes, int edge_changes);

    private sealed record TrainingRow(int step, double loss, double seconds, double eval_accuracy);
}
