using System.Globalization;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Interactive.Charts;
using CircuitNotebooks.Interactive.Html;
using static CircuitNotebooks.Cli.Reproduce.ReproduceReport;

namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>
/// report.html: the paper's figures with our values over seeds (mean, dashed 95 % bounds) beside the paper's numbers,
/// each with a two-line caption (what to look for; what the paper found). Built from the CSV tables only.
/// </summary>
public static class ReproduceFigures
{
    public static HtmlReport Html(ReproduceResult r, IReadOnlyList<CsvTable> tables)
    {
        var t = tables.ToDictionary(x => x.FileName);
        var s = r.Settings;
        string primary = ReproduceFindings.PrimaryMethod(r);
        var report = new HtmlReport("CircuitNotebooks — circuit dynamics during fine-tuning");
        report.Paragraph($"Model {s.Model}, task {s.Task} ({r.Base.TrainExamples} train / {r.Base.TestExamples} test examples), " +
                         $"{s.Steps} steps per run, {s.Seeds} seed(s) per method, circuits every {s.CheckpointEvery} steps: EAP-IG over inputs " +
                         $"(m = {s.IgSteps}, metric {r.Base.Metric}) on {r.Base.ProbeExamples} test examples, top {s.Edges} of edges, pruned. " +
                         $"Base accuracy {r.Base.Accuracy:P1}. Intervals: 95 % Student-t over seeds. Circuit findings use the {primary} runs.");

        report.Section("Findings (findings.json)").Html(FindingsTable(t["findings.csv"]).ToHtml());
        AccuracySection(report, r, t["accuracy_by_method.csv"]);
        foreach (var method in r.Runs.Select(x => x.Method).Distinct())
            SimilaritySection(report, method, t[$"similarity_bands_{method}.csv"]);
        if (r.Runs.Count > 0) ChangesSection(report, r, primary, t);
        FaithfulnessSection(report, r, t["faithfulness_vs_budget.csv"]);
        if (t.TryGetValue("critical_layers.csv", out var critical)) CriticalSection(report, r, critical);
        if (r.Composition is { } c) CompositionSection(report, c, t);
        foreach (var run in r.Runs.Where(x => x.Result.Seed == s.Seed)) RunDetails(report, run, t);

        report.Section("Files").Preformatted(string.Join("\n", tables.Select(x => x.FileName)
            .Concat(["findings.json (the verdict)", "config.json (the exact settings)", "run.log (with time by stage)",
                "circuits/ (circuit JSON per checkpoint, with .eval.json)", "runs/ (training checkpoints)"])));
        report.Section("Configuration").Preformatted(s.ToJson());
        return report;
    }

    private static string Caption(string look, string paper) => $"Look for: {look} Paper: {paper}";

    private static CsvTable FindingsTable(CsvTable f)
    {
        var view = new CsvTable("findings", ["finding", "ours", "95 % CI", "paper", "holds"]);
        foreach (var row in f.Rows)
            view.Add(row[0], Num(row[1]), row[2] is double lo && row[3] is double hi ? $"[{Num(lo)}, {Num(hi)}]" : "—", Num(row[4]),
                row[5] is true ? "yes" : "no");
        return view;
    }

    private static void AccuracySection(HtmlReport report, ReproduceResult r, CsvTable acc)
    {
        var methods = acc.Rows.Select(x => (string)x[0]!).ToList();
        var view = new CsvTable("accuracy", ["method", "seeds", "before", "after [95 % CI]", "gain pp [95 % CI]", "trainable"]);
        foreach (var x in acc.Rows)
            view.Add(x[0], x[1], Pct(x[2]), $"{Pct(x[3])} [{Pct(x[4])}, {Pct(x[5])}]", $"{Num(x[6])} [{Num(x[7])}, {Num(x[8])}]",
                ((long)x[9]!).ToString("N0", CultureInfo.InvariantCulture));
        var diffs = ReproduceFindings.Compute(r);
        report.Section("Accuracy by method")
            .Chart(Bars.Grouped(methods,
                [
                    new BarSeries("base model", Column(acc, 2)),
                    // Error bars: the 95 % interval around the mean (symmetric for a t-interval).
                    new BarSeries("after (mean over seeds, 95 % CI)", Column(acc, 3),
                        Column(acc, 5).Zip(Column(acc, 4), (hi, lo) => double.IsFinite(hi - lo) ? (hi - lo) / 2 : 0).ToList()),
                ], "Exact-match accuracy on held-out examples", "accuracy"),
                Caption("every method well above the base model, and CircuitLoRA against LoRA and the random-layer control at the same parameter count " +
                        $"(CircuitLoRA − LoRA {Num(diffs["circuitlora_minus_lora_pp"].Ours)} pp {Ci(diffs["circuitlora_minus_lora_pp"])}; " +
                        $"− random layers {Num(diffs["circuitlora_minus_random_pp"].Ours)} pp {Ci(diffs["circuitlora_minus_random_pp"])}).",
                        "large gains on math tasks Pythia-1.4B is weak at; CircuitLoRA +2.46 pp over LoRA on average at a similar parameter count."))
            .Html(view.ToHtml());
    }

    private static void SimilaritySection(HtmlReport report, string method, CsvTable bands)
    {
        var x = Column(bands, 0);
        report.Section($"{method}: node vs edge similarity to the base circuit")
            .Chart(LineCurves.Create(x,
                [
                    new CurveSeries("node Jaccard (mean)", Column(bands, 1)),
                    new CurveSeries("node 95 % low", Column(bands, 2), Dashed: true), new CurveSeries("node 95 % high", Column(bands, 3), Dashed: true),
                    new CurveSeries("edge Jaccard (mean)", Column(bands, 4)),
                    new CurveSeries("edge 95 % low", Column(bands, 5), Dashed: true), new CurveSeries("edge 95 % high", Column(bands, 6), Dashed: true),
                    new CurveSeries("paper node J (0.80–0.85)", x.Select(_ => ReproduceFindings.PaperNodeJaccard).ToList(), Dashed: true),
                    new CurveSeries("paper edge J (0.40–0.50)", x.Select(_ => ReproduceFindings.PaperEdgeJaccard).ToList(), Dashed: true),
                ], $"{method}: Jaccard similarity to the base model's circuit", "step", "Jaccard"),
                Caption("the node curve staying above the edge curve, with the bands apart.",
                    "node Jaccard ≈ 0.80–0.85 and edge Jaccard ≈ 0.40–0.50 across fine-tuning (Pythia-1.4B, authors' circuits)."));
    }

    private static void ChangesSection(HtmlReport report, ReproduceResult r, string method, IReadOnlyDictionary<string, CsvTable> t)
    {
        var bands = t[$"changes_bands_{method}.csv"];
        var x = Column(bands, 0);
        // The paper's per-transition changes, linearly from the first to the last transition, scaled by graph size.
        var graph = r.BaseCircuit.Circuit.Graph;
        double edgeScale = graph.EdgeCount / 231_493.0, nodeScale = graph.NodeCount / 410.0;
        List<double> Paper(double first, double last) =>
            x.Select((_, i) => x.Count == 1 ? first : first + (last - first) * i / (x.Count - 1)).ToList();
        report.Section($"{method}: node and edge changes per transition (checkpoint i−1 → i)")
            .Chart(LineCurves.Create(x,
                [
                    new CurveSeries("node changes (mean)", Column(bands, 1)),
                    new CurveSeries("node 95 % high", Column(bands, 3), Dashed: true),
                    new CurveSeries("edge changes (mean)", Column(bands, 4)),
                    new CurveSeries("edge 95 % high", Column(bands, 6), Dashed: true),
                    new CurveSeries("paper nodes 60 → 8, scaled", Paper(60 * nodeScale, 8 * nodeScale), Dashed: true),
                    new CurveSeries("paper edges 3,500 → 750, scaled", Paper(3500 * edgeScale, 750 * edgeScale), Dashed: true),
                ], $"{method}: nodes and edges added + removed per transition", "step", "changes"),
                Caption("changes falling over training, edges changing far more than nodes.",
                    $"node changes ~60 → 5–12, edge changes ~3–4k → 0.5–1k per transition on Pythia-1.4B (shown scaled by graph size: ×{nodeScale:G2} nodes, ×{edgeScale:G2} edges)."));

        var layerTables = r.Runs.Where(x => x.Method == method).Select(x => t[$"layer_changes_{x.RunId}.csv"]).ToList();
        var labels = layerTables[0].Rows.Select(row => CsvTable.Format(row[0])).ToList();
        List<double> Mean(int col) => Enumerable.Range(0, labels.Count).Select(i => layerTables.Average(lt => Column(lt, col)[i])).ToList();
        report.Section($"{method}: changes per layer (source node's layer), summed over transitions, mean over seeds")
            .Chart(Bars.Grouped(labels, [new BarSeries("node changes", Mean(1)), new BarSeries("edge changes", Mean(2))],
                    $"{method}: where the circuit changes", "changes"),
                Caption("which layers carry the edge changes (CircuitLoRA's critical layers come from the same measure on the LoRA run).",
                    "edge changes concentrate in early and middle layers, node changes in later layers; Add/Sub critical layers 0, 4, 6, 5, 2 of 24."));
    }

    private static void FaithfulnessSection(HtmlReport report, ReproduceResult r, CsvTable faith)
    {
        var percent = Column(faith, 1);
        // The first seed's runs only: with every seed the table would run off the page (all columns are in the CSV).
        var shown = Enumerable.Range(0, faith.Header.Count).Where(i => !faith.Header[i].Contains("-seed")).ToList();
        var view = new CsvTable("faithfulness", shown.Select(i => faith.Header[i]).ToList());
        foreach (var row in faith.Rows) view.Add([.. shown.Select(i => row[i])]);
        var series = shown.Skip(2).Select(i => new CurveSeries(faith.Header[i], Column(faith, i))).ToList();
        series.Add(PaperUnionCurve(percent));
        report.Section("Faithfulness vs edge budget (task circuit)")
            .Chart(LineCurves.Create(percent, series, "Faithfulness of the top-n edges vs n (% of edges)", "edges (% of all)", "faithfulness", logX: true),
                Caption($"a curve near 1 by 5 % of edges (here {r.BaseCircuit.Circuit.EdgeCountInCircuit} edges after pruning, faithfulness {r.BaseCircuit.Faithfulness:F3}).",
                    "≈ 0.9 at 5 % of edges; the dashed curve is the paper's union-circuit table (1 % 67.4 … 5 % 89.2 … 10 % 89.7)."))
            .Html(view.ToHtml());
    }

    private static CurveSeries PaperUnionCurve(IReadOnlyList<double> percent) =>
        new("paper (union circuit, Pythia-1.4B)", percent.Select(p =>
            ReproduceFindings.PaperUnionFaithfulness.FirstOrDefault(q => Math.Abs(q.Percent - p) < 0.05) is { Faithfulness: > 0 } q
                ? q.Faithfulness / 100 : double.NaN).ToList(), Dashed: true);

    private static void CriticalSection(HtmlReport report, ReproduceResult r, CsvTable critical)
    {
        int first = r.Settings.Seed;
        var rows = critical.Rows.Where(x => (int)x[0]! == first).ToList();
        var change = rows.Select(x => (double)x[2]!).ToList();
        var clora = r.Runs.First(x => x.Method == "circuitlora" && x.Result.Seed == first).Result;
        report.Section("CircuitLoRA: critical layers (LoRA run, base → final)")
            .Paragraph($"Seed {first}: rank {clora.CriticalRank} on critical layers {string.Join(", ", clora.CriticalLayers ?? [])}, rank {clora.OtherRank} " +
                       $"elsewhere ({clora.TrainableParameters:N0} trainable parameters). The random-layer control uses the same ranks on other layers.")
            .Chart(Bars.PerLayerEdgeChange(change, "Edge change per layer, base → LoRA final (source-node layer)", "Σ |Δ score|"),
                Caption("a few layers with most of the change; those get the higher rank.",
                    "critical layers (Pythia-1.4B, Add/Sub) 0, 4, 6, 5, 2; CircuitLoRA (16, 64) beats LoRA r = 32 and AdaLoRA."))
            .Html(critical.ToHtml());
    }

    private static void CompositionSection(HtmlReport report, CompositionResult c, IReadOnlyDictionary<string, CsvTable> t)
    {
        var cf = t["composition_faithfulness_vs_budget.csv"];
        var edges = Column(cf, 0);
        int total = (int)Math.Round(edges[^1]);
        var percent = edges.Select(e => Math.Round(100 * e / total, 1)).ToList();
        report.Section($"Union of sub-task circuits vs the {c.Composite} circuit (base model)")
            .Html(t["composition.csv"].ToHtml())
            .Chart(LineCurves.Create(percent, [new CurveSeries("composite circuit", Column(cf, 1)),
                    new CurveSeries("union of sub-task circuits", Column(cf, 2), Dashed: true), PaperUnionCurve(percent)],
                    "Faithfulness on the composite task vs edge budget", "edges (% of all)", "faithfulness", logX: true),
                Caption("the union curve close to the composite circuit's.",
                    "union faithfulness 1 % 67.4, 2 % 79.4, 3 % 83.7, 4 % 87.2, 5 % 89.2, 6 % 89.4, 8 % 89.6, 10 % 89.7."))
            .Html(cf.ToHtml());
    }

    private static void RunDetails(HtmlReport report, MethodRun run, IReadOnlyDictionary<string, CsvTable> t)
    {
        var x = run.Steps.Select(v => (double)v).ToList();
        var sim = t[$"similarity_{run.RunId}.csv"];
        report.Section($"{run.RunId} (seed {run.Result.Seed}): accuracy {run.Result.AccuracyBefore:P1} → {run.Result.AccuracyAfter:P1}, " +
                       $"{run.Result.TrainableParameters:N0} trainable parameters ({run.Result.TrainableRatio:P2})")
            .Chart(LineCurves.Create(x, [new CurveSeries("node J", Column(sim, 6)), new CurveSeries("edge J", Column(sim, 7), Dashed: true)],
                $"{run.RunId}: similarity to the previous checkpoint", "step", "Jaccard"))
            .Chart(LineCurves.TrainingCurves(Enumerable.Range(1, run.Result.Losses.Count).Select(i => (double)i).ToList(),
                run.Result.Losses, null, $"{run.RunId}: training loss"))
            .Html(Columns(sim, "similarity", [0, 1, 2, 3, 4, 8], ["step", "nodes", "edges", "node J vs base", "edge J vs base", "faithfulness"]).ToHtml())
            .Html(Columns(t[$"changes_{run.RunId}.csv"], "changes", [1, 4, 7, 8], ["to step", "node changes", "edge changes", "share touching changed nodes"]).ToHtml());
    }

    /// <summary>Some columns of a CSV table under short headers (the page stays narrow; the CSV has them all).</summary>
    private static CsvTable Columns(CsvTable t, string name, int[] columns, string[] headers)
    {
        var view = new CsvTable(name, headers);
        foreach (var row in t.Rows) view.Add([.. columns.Select(i => row[i])]);
        return view;
    }

    private static string Num(object? v) => v is double big && Math.Abs(big) >= 1000 ? big.ToString("N0", CultureInfo.InvariantCulture) : v is double d && double.IsFinite(d) ? d.ToString("G3", CultureInfo.InvariantCulture) : v is double ? "—" : CsvTable.Format(v, exact: false);
    private static string Pct(object? v) => v is double d ? (100 * d).ToString("F1", CultureInfo.InvariantCulture) + " %" : "";
    private static string Ci(Finding f) => f.Ci95 is { } ci ? $"[{Num(ci[0])}, {Num(ci[1])}]" : "(no interval)";
}
