using CircuitNotebooks.Circuits;
using CircuitNotebooks.Cli.Infrastructure;

namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>
/// The tables (one CSV each) and report.html of a reproduce run, computed from the stored circuits and results only,
/// so a resumed run writes the same files as an uninterrupted one. Per-run files are named by run id (the method for
/// the first seed, "method-seedN" for later ones); per-method summaries over seeds come from <see cref="SeedTables"/>.
/// </summary>
public static class ReproduceReport
{
    public static IReadOnlyList<CsvTable> Tables(ReproduceResult r)
    {
        var tables = new List<CsvTable> { Summary(r), SeedTables.Findings(r), SeedTables.Accuracy(r) };
        foreach (var method in r.Runs.Select(x => x.Method).Distinct())
        {
            tables.Add(SeedTables.SimilarityBands(r, method));
            tables.Add(SeedTables.ChangeBands(r, method));
        }
        foreach (var run in r.Runs)
        {
            tables.Add(Similarity(run));
            tables.Add(Changes(run));
            tables.Add(LayerChanges(run));
            var loss = new CsvTable($"loss_{run.RunId}.csv", ["step", "loss"]);
            for (int i = 0; i < run.Result.Losses.Count; i++) loss.Add(i + 1, run.Result.Losses[i]);
            tables.Add(loss);
        }
        tables.Add(Faithfulness(r));
        var controls = r.Runs.Where(x => x.Method == "randomlayers").ToDictionary(x => x.Result.Seed);
        var clora = r.Runs.Where(x => x.Method == "circuitlora" && x.Result.LayerEdgeChange is not null).ToList();
        if (clora.Count > 0)
        {
            var t = new CsvTable("critical_layers.csv", ["seed", "layer", "edge_change", "critical", "random_control"]);
            foreach (var run in clora)
                for (int l = 0; l < run.Result.LayerEdgeChange!.Count; l++)
                    t.Add(run.Result.Seed, l, run.Result.LayerEdgeChange[l], run.Result.CriticalLayers!.Contains(l),
                        controls.TryGetValue(run.Result.Seed, out var ctl) && ctl.Result.CriticalLayers!.Contains(l));
            tables.Add(t);
        }
        if (r.Composition is { } c)
        {
            var t = new CsvTable("composition.csv", ["circuit", "nodes", "edges", "faithfulness_on_composite", "node_jaccard_vs_composite", "edge_jaccard_vs_composite"]);
            t.Add("composite", c.CompositeNodes, c.CompositeEdges, c.CompositeFaithfulness, 1.0, 1.0);
            t.Add("union of " + string.Join(" + ", c.SubTasks), c.UnionNodes, c.UnionEdges, c.UnionFaithfulness, c.NodeJaccard, c.EdgeJaccard);
            tables.Add(t);
            var f = new CsvTable("composition_faithfulness_vs_budget.csv", ["edges", "composite", "union"]);
            for (int i = 0; i < c.Budgets.Count; i++) f.Add(c.Budgets[i], c.CompositeCurve[i], c.UnionCurve[i]);
            tables.Add(f);
        }
        return tables;
    }

    private static CsvTable Summary(ReproduceResult r)
    {
        var t = new CsvTable("summary.csv", ["method", "seed", "accuracy_before", "accuracy_after", "trainable_parameters", "trainable_ratio",
            "final_node_jaccard_vs_base", "final_edge_jaccard_vs_base", "mean_node_changes_per_transition", "mean_edge_changes_per_transition",
            "final_faithfulness", "critical_layers", "r_other", "r_critical"]);
        foreach (var run in r.Runs)
        {
            var c = run.Circuits.Select(x => x.Circuit).ToList();
            var final = CircuitComparison.Compare(c[0], c[^1]);
            var series = CircuitComparison.CompareSeries(c);
            t.Add(run.RunId, run.Result.Seed, run.Result.AccuracyBefore, run.Result.AccuracyAfter, run.Result.TrainableParameters, run.Result.TrainableRatio,
                final.NodeJaccard, final.EdgeJaccard, series.VsPrevious.Average(d => (double)d.NodeChanges),
                series.VsPrevious.Average(d => (double)d.EdgeChanges), run.Circuits[^1].Faithfulness,
                run.Result.CriticalLayers is { } cl ? string.Join(" ", cl) : "", run.Result.OtherRank, run.Result.CriticalRank);
        }
        return t;
    }

    private static CsvTable Similarity(MethodRun run)
    {
        var t = new CsvTable($"similarity_{run.RunId}.csv", ["step", "nodes", "edges", "node_jaccard_vs_base", "edge_jaccard_vs_base",
            "weighted_edge_jaccard_vs_base", "node_jaccard_vs_prev", "edge_jaccard_vs_prev", "faithfulness"]);
        var c = run.Circuits.Select(x => x.Circuit).ToList();
        for (int i = 0; i < c.Count; i++)
        {
            var vsBase = CircuitComparison.Compare(c[0], c[i]);
            var vsPrev = CircuitComparison.Compare(c[Math.Max(0, i - 1)], c[i]);
            t.Add(run.Steps[i], c[i].NodeCountInCircuit, c[i].EdgeCountInCircuit, vsBase.NodeJaccard, vsBase.EdgeJaccard,
                vsBase.WeightedEdgeJaccard, vsPrev.NodeJaccard, vsPrev.EdgeJaccard, run.Circuits[i].Faithfulness);
        }
        return t;
    }

    private static CsvTable Changes(MethodRun run)
    {
        var t = new CsvTable($"changes_{run.RunId}.csv", ["from_step", "to_step", "nodes_added", "nodes_removed", "node_changes",
            "edges_added", "edges_removed", "edge_changes", "share_edge_changes_touching_changed_nodes"]);
        var series = CircuitComparison.CompareSeries(run.Circuits.Select(x => x.Circuit).ToList());
        foreach (var d in series.VsPrevious)
            t.Add(run.Steps[d.FromIndex], run.Steps[d.ToIndex], d.AddedNodes.Count, d.RemovedNodes.Count, d.NodeChanges,
                d.AddedEdges.Count, d.RemovedEdges.Count, d.EdgeChanges, d.ShareEdgeChangesTouchingChangedNodes);
        return t;
    }

    /// <summary>Node and edge changes summed over consecutive transitions, per layer (edges at their source's layer).</summary>
    private static CsvTable LayerChanges(MethodRun run)
    {
        var t = new CsvTable($"layer_changes_{run.RunId}.csv", ["layer", "node_changes", "edge_changes"]);
        var series = CircuitComparison.CompareSeries(run.Circuits.Select(x => x.Circuit).ToList());
        int layers = series.VsPrevious[0].PerLayer.Count;
        for (int l = 0; l < layers; l++)
            t.Add(l == layers - 1 ? "logits" : l.ToString(System.Globalization.CultureInfo.InvariantCulture),
                series.VsPrevious.Sum(d => d.PerLayer[l].NodeChanges), series.VsPrevious.Sum(d => d.PerLayer[l].EdgeChanges));
        return t;
    }

    private static CsvTable Faithfulness(ReproduceResult r)
    {
        var header = new List<string> { "edges", "percent_of_edges", "base" };
        header.AddRange(r.Runs.Select(x => $"{x.RunId}_final"));
        var t = new CsvTable("faithfulness_vs_budget.csv", header);
        int real = r.BaseCircuit.Circuit.Graph.EdgeCount;
        for (int i = 0; i < r.Base.Budgets.Count; i++)
        {
            var row = new List<object?> { r.Base.Budgets[i], 100.0 * r.Base.Budgets[i] / real, r.Base.Curve[i] };
            row.AddRange(r.Runs.Select(x => (object?)x.Result.FinalCurve[i]));
            t.Add([.. row]);
        }
        return t;
    }

    public static void Write(ReproduceResult r, OutputDirectory dir)
    {
        var tables = Tables(r);
        foreach (var t in tables) dir.WriteText(t.FileName, t.ToCsv());
        dir.Write("report.html", tmp => File.WriteAllText(tmp, ReproduceFigures.Html(r, tables).ToHtml()));
    }

    internal static List<double> Column(CsvTable t, int i) =>
        t.Rows.Select(r => r[i] switch { double d => d, int n => n, long n => n, _ => double.NaN }).ToList();
}
