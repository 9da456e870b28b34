using CircuitNotebooks.Circuits;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Interactive.Charts;
using CircuitNotebooks.Interactive.Html;

namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>
/// The tables (one CSV each) and report.html of a reproduce run, computed from the stored circuits and results only,
/// so a resumed run writes the same files as an uninterrupted one.
/// </summary>
public static class ReproduceReport
{
    public static IReadOnlyList<CsvTable> Tables(ReproduceResult r)
    {
        var tables = new List<CsvTable> { Summary(r) };
        foreach (var run in r.Runs)
        {
            tables.Add(Similarity(run));
            tables.Add(Changes(run));
            tables.Add(LayerChanges(run));
            var loss = new CsvTable($"loss_{run.Method}.csv", ["step", "loss"]);
            for (int i = 0; i < run.Result.Losses.Count; i++) loss.Add(i + 1, run.Result.Losses[i]);
            tables.Add(loss);
        }
        tables.Add(Faithfulness(r));
        if (r.Runs.FirstOrDefault(x => x.Method == "circuitlora")?.Result is { LayerEdgeChange: { } change, CriticalLayers: { } critical })
        {
            var t = new CsvTable("critical_layers.csv", ["layer", "edge_change", "critical"]);
            for (int l = 0; l < change.Count; l++) t.Add(l, change[l], critical.Contains(l));
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
        var t = new CsvTable("summary.csv", ["method", "accuracy_before", "accuracy_after", "trainable_parameters", "trainable_ratio",
            "final_node_jaccard_vs_base", "final_edge_jaccard_vs_base", "mean_node_changes_per_transition", "mean_edge_changes_per_transition",
            "final_faithfulness", "critical_layers", "r_other", "r_critical"]);
        foreach (var run in r.Runs)
        {
            var c = run.Circuits.Select(x => x.Circuit).ToList();
            var final = CircuitComparison.Compare(c[0], c[^1]);
            var series = CircuitComparison.CompareSeries(c);
            t.Add(run.Method, run.Result.AccuracyBefore, run.Result.AccuracyAfter, run.Result.TrainableParameters, run.Result.TrainableRatio,
                final.NodeJaccard, final.EdgeJaccard, series.VsPrevious.Average(d => (double)d.NodeChanges),
                series.VsPrevious.Average(d => (double)d.EdgeChanges), run.Circuits[^1].Faithfulness,
                run.Result.CriticalLayers is { } cl ? string.Join(" ", cl) : "", run.Result.OtherRank, run.Result.CriticalRank);
        }
        return t;
    }

    private static CsvTable Similarity(MethodRun run)
    {
        var t = new CsvTable($"similarity_{run.Method}.csv", ["step", "nodes", "edges", "node_jaccard_vs_base", "edge_jaccard_vs_base",
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
        var t = new CsvTable($"changes_{run.Method}.csv", ["from_step", "to_step", "nodes_added", "nodes_removed", "node_changes",
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
        var t = new CsvTable($"layer_changes_{run.Method}.csv", ["layer", "node_changes", "edge_changes"]);
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
        header.AddRange(r.Runs.Select(x => $"{x.Method}_final"));
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
        var byName = tables.ToDictionary(t => t.FileName);
        var s = r.Settings;
        var report = new HtmlReport("CircuitNotebooks — circuit dynamics during fine-tuning");
        report.Paragraph($"Model {s.Model}, task {s.Task} ({r.Base.TrainExamples} train / {r.Base.TestExamples} test examples), " +
                         $"{s.Steps} steps, circuits every {s.CheckpointEvery} steps: EAP-IG over inputs (m = {s.IgSteps}, metric {r.Base.Metric}) " +
                         $"on {r.Base.ProbeExamples} test examples, top {s.Edges} of edges, pruned. Base accuracy {r.Base.Accuracy:P1}.");
        report.Section("Summary").Html(byName["summary.csv"].ToHtml());

        if (r.Runs.Count > 0)
        {
            var x = r.Runs[0].Steps.Select(v => (double)v).ToList();
            report.Section("Node vs edge similarity to the base circuit")
                .Chart(LineCurves.Create(x, r.Runs.SelectMany(run => new[]
                {
                    new CurveSeries($"{run.Method} nodes", Column(byName[$"similarity_{run.Method}.csv"], 3)),
                    new CurveSeries($"{run.Method} edges", Column(byName[$"similarity_{run.Method}.csv"], 4), Dashed: true),
                }).ToList(), "Jaccard similarity to the base model's circuit", "step", "Jaccard"));
            var transitions = r.Runs[0].Steps.Skip(1).Select(v => (double)v).ToList();
            report.Section("Changes per transition (checkpoint i−1 → i)")
                .Chart(LineCurves.Create(transitions, r.Runs.SelectMany(run => new[]
                {
                    new CurveSeries($"{run.Method} node changes", Column(byName[$"changes_{run.Method}.csv"], 4)),
                    new CurveSeries($"{run.Method} edge changes", Column(byName[$"changes_{run.Method}.csv"], 7), Dashed: true),
                }).ToList(), "Nodes and edges added + removed per transition", "step", "changes"));
        }
        foreach (var run in r.Runs)
        {
            var x = run.Steps.Select(v => (double)v).ToList();
            var sim = byName[$"similarity_{run.Method}.csv"];
            var layers = byName[$"layer_changes_{run.Method}.csv"];
            report.Section($"{run.Method}: accuracy {run.Result.AccuracyBefore:P1} → {run.Result.AccuracyAfter:P1}, " +
                           $"{run.Result.TrainableParameters:N0} trainable parameters ({run.Result.TrainableRatio:P2})")
                .Chart(LineCurves.SimilarityOverCheckpoints(x, Column(sim, 3), Column(sim, 4), $"{run.Method}: similarity to the base circuit"))
                .Chart(LineCurves.Create(x, [new CurveSeries("node J", Column(sim, 6)), new CurveSeries("edge J", Column(sim, 7), Dashed: true)],
                    $"{run.Method}: similarity to the previous checkpoint", "step", "Jaccard"))
                .Chart(Bars.Grouped(layers.Rows.Select(row => CsvTable.Format(row[0])).ToList(),
                    [new BarSeries("node changes", Column(layers, 1)), new BarSeries("edge changes", Column(layers, 2))],
                    $"{run.Method}: changes per layer, summed over transitions", "changes"))
                .Chart(LineCurves.TrainingCurves(Enumerable.Range(1, run.Result.Losses.Count).Select(i => (double)i).ToList(),
                    run.Result.Losses, null, $"{run.Method}: training loss"))
                .Html(sim.ToHtml())
                .Html(byName[$"changes_{run.Method}.csv"].ToHtml());
        }

        var faith = byName["faithfulness_vs_budget.csv"];
        report.Section("Faithfulness vs edge budget")
            .Chart(LineCurves.FaithfulnessVsEdgeBudget(Column(faith, 0),
                Enumerable.Range(2, faith.Header.Count - 2).Select(i => new CurveSeries(faith.Header[i], Column(faith, i))).ToList()))
            .Html(faith.ToHtml());

        var lora = r.Runs.FirstOrDefault(x => x.Method == "lora");
        var clora = r.Runs.FirstOrDefault(x => x.Method == "circuitlora");
        if (lora is not null && clora is not null && byName.TryGetValue("critical_layers.csv", out var critical))
        {
            report.Section("LoRA vs CircuitLoRA (matched parameter budget)")
                .Paragraph($"CircuitLoRA: rank {clora.Result.CriticalRank} on critical layers {string.Join(", ", clora.Result.CriticalLayers ?? [])}, " +
                           $"rank {clora.Result.OtherRank} elsewhere — {clora.Result.TrainableParameters:N0} trainable parameters vs LoRA's {lora.Result.TrainableParameters:N0}.")
                .Chart(Bars.LoraComparison(["accuracy after", "final faithfulness"], [lora.Result.AccuracyAfter, lora.Circuits[^1].Faithfulness],
                    [clora.Result.AccuracyAfter, clora.Circuits[^1].Faithfulness], yTitle: "value"))
                .Chart(Bars.PerLayerEdgeChange(Column(critical, 1), "Edge change per layer, base → LoRA final (source-node layer)", "Σ |Δ score|"))
                .Html(critical.ToHtml());
        }
        if (r.Composition is { } c)
        {
            var cf = byName["composition_faithfulness_vs_budget.csv"];
            report.Section($"Union of sub-task circuits vs the {c.Composite} circuit (base model)")
                .Html(byName["composition.csv"].ToHtml())
                .Chart(LineCurves.FaithfulnessVsEdgeBudget(Column(cf, 0), [new CurveSeries("composite circuit", Column(cf, 1)),
                    new CurveSeries("union of sub-task circuits", Column(cf, 2), Dashed: true)], "Faithfulness on the composite task vs edge budget"))
                .Html(cf.ToHtml());
        }
        report.Section("Files").Preformatted(string.Join("\n", tables.Select(t => t.FileName)
            .Concat(["config.json (the exact settings)", "run.log", "circuits/ (circuit JSON per checkpoint, with .eval.json)", "runs/ (training checkpoints)"])));
        report.Section("Configuration").Preformatted(s.ToJson());
        dir.Write("report.html", tmp => File.WriteAllText(tmp, report.ToHtml()));
    }

    private static List<double> Column(CsvTable t, int i) =>
        t.Rows.Select(r => r[i] switch { double d => d, int n => n, long n => n, _ => double.NaN }).ToList();
}
