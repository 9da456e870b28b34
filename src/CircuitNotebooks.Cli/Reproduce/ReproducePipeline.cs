using System.Globalization;
using System.Text;
using System.Text.Json;
using CircuitNotebooks.Circuits;
using CircuitNotebooks.FineTuning;
using CircuitNotebooks.FineTuning.Pretraining;
using CircuitNotebooks.Interactive.Charts;
using CircuitNotebooks.Interactive.Html;
using CircuitNotebooks.Models;
using CircuitNotebooks.Tasks;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Reproduce;

public sealed record MethodRun(string Method, double AccuracyBefore, double AccuracyAfter, long TrainableParameters,
    IReadOnlyList<int> Steps, IReadOnlyList<Circuit> Circuits, IReadOnlyList<double> Faithfulness, IReadOnlyList<double> Losses,
    IReadOnlyList<int>? CriticalLayers);

/// <summary>
/// The main job (Wang et al. 2025, scaled down): fine-tune with full FT, LoRA and CircuitLoRA, discover an EAP-IG
/// circuit at every checkpoint, and report node/edge similarity, critical layers, faithfulness and accuracy.
/// </summary>
public sealed class ReproducePipeline(ReproduceSettings s, Action<string> log)
{
    private readonly CultureInfo _ic = CultureInfo.InvariantCulture;

    public IReadOnlyList<MethodRun> Run(CancellationToken ct)
    {
        Directory.CreateDirectory(s.Out);
        WriteText("config.json", JsonSerializer.Serialize(s, new JsonSerializerOptions { WriteIndented = true }));
        var device = s.Device == "cuda" ? CUDA : CPU;
        int threads = get_num_threads();
        if (device.type == TorchSharp.DeviceType.CPU) set_num_threads(1); // tiny matrices: threading costs more than it gains
        try
        {
            using var probeModel = Load(device);
            var gen = TinySuite.Get(s.Task);
            var all = gen.Generate(s.Examples, s.Seed, TinySuite.Template);
            var split = DatasetSplit.TrainTest(all, 0.9, s.Seed);
            var attributionSet = split.Test.Take(s.AttributionExamples).ToList();
            using var probe = new CircuitProbe(probeModel, attributionSet, s);
            log($"task {s.Task}: {split.Train.Count} train / {split.Test.Count} test examples; circuits on {attributionSet.Count}");

            var (baseCircuit, baseScores, baseFaith) = probe.Discover(probeModel, "step 0");
            log($"base circuit: {baseCircuit.NodesInCircuit().Count()} nodes, {baseCircuit.EdgeCountInCircuit} edges, faithfulness {baseFaith:F3}");
            WriteFaithfulnessCurve(probeModel, probe, baseScores);

            var runs = new List<MethodRun>();
            Circuit? loraFinal = null;
            foreach (var method in s.Methods)
            {
                ct.ThrowIfCancellationRequested();
                LoRaRankPlan? plan = null;
                if (method == "circuitlora")
                {
                    var after = loraFinal ?? throw new ArgumentException("circuitlora needs the lora method to run first (it uses LoRA's final circuit).");
                    int k = Math.Max(1, Math.Min(5, probeModel.Config.NLayers / 2));
                    var budget = CircuitLoRaPlanner.MatchBudget(probeModel.Config, LoRaTargets.AllSeparate(probeModel.Config), s.LoraRank, k);
                    plan = CircuitLoRaPlanner.PlanFromCircuits(baseCircuit, after, budget.OtherRank, budget.CriticalRank, k);
                    log($"CircuitLoRA: critical layers {string.Join(",", plan.CriticalLayers)}, r_o={budget.OtherRank}, r_c={budget.CriticalRank}");
                }
                var run = FineTune(method, device, split, probe, baseCircuit, baseFaith, plan, ct);
                if (method == "lora") loraFinal = run.Circuits[^1];
                runs.Add(run);
                log($"{method}: accuracy {run.AccuracyBefore:P1} → {run.AccuracyAfter:P1}, trainable {run.TrainableParameters:N0}");
            }
            WriteOutputs(runs);
            return runs;
        }
        finally { set_num_threads(threads); }
    }

    private HookedTransformer Load(Device device)
    {
        if (!Directory.Exists(s.Model)) throw new DirectoryNotFoundException($"Model directory '{s.Model}' does not exist.");
        var m = HookedTransformer.FromPretrained(s.Model, device);
        if (m.Tokenizer is null) throw new InvalidDataException($"{s.Model}: no tokenizer files (tokenizer.json).");
        return m;
    }

    private MethodRun FineTune(string method, Device device, DatasetSplit<TaskExample> split, CircuitProbe probe,
        Circuit baseCircuit, double baseFaith, LoRaRankPlan? plan, CancellationToken ct)
    {
        using var model = Load(device);
        double before = DefaultModelRecipe.Accuracy(model, split.Test);
        LoraModel? lora = method switch
        {
            "full" => null,
            "lora" => LoraModel.Attach(model, new LoraConfig { Rank = s.LoraRank, Alpha = 2 * s.LoraRank }, s.Seed),
            "circuitlora" => LoraModel.Attach(model, new LoraConfig { Rank = s.LoraRank, Alpha = 2 * s.LoraRank }
                .WithLayerPlan(plan!.Layers.ToDictionary(kv => kv.Key, kv => (kv.Value.Rank, kv.Value.Alpha))), s.Seed),
            _ => throw new ArgumentException($"Unknown method '{method}'. Methods: full, lora, circuitlora."),
        };
        long trainable = lora?.TrainableParameterCount ?? model.ParameterCount;
        var steps = new List<int> { 0 };
        var circuits = new List<Circuit> { baseCircuit };
        var faith = new List<double> { baseFaith };
        var probeAt = new SyncProgress<TrainingProgress>(p =>
        {
            if (p.Step == 0 || p.Step % s.CheckpointEvery != 0) return;
            var (c, _, f) = probe.Discover(model, $"{method} step {p.Step}");
            steps.Add(p.Step);
            circuits.Add(c);
            faith.Add(f);
            log($"  {method} step {p.Step}: loss {p.Loss:F4}, circuit {c.NodesInCircuit().Count()} nodes / {c.EdgeCountInCircuit} edges");
        });
        var examples = split.Train.Select(e => TrainingExample.FromText(model, e.Clean, " " + e.Label)).ToList();
        var cfg = new TrainingConfig
        {
            Steps = s.Steps, BatchSize = 16, LearningRate = lora is null ? s.FullLearningRate : s.LoraLearningRate,
            WarmupSteps = Math.Min(10, s.Steps / 5), Seed = s.Seed, Schedule = LrScheduleKind.Linear,
        };
        var runDir = Path.Combine(s.Out, "runs", method);
        var trainer = new Trainer(model, cfg, lora, runDir);
        var result = trainer.Train(examples, null, probeAt, ct);
        double after = DefaultModelRecipe.Accuracy(model, split.Test);
        var circDir = Path.Combine(s.Out, "circuits", method);
        Directory.CreateDirectory(circDir);
        for (int i = 0; i < circuits.Count; i++)
            CircuitFile.Save(circuits[i], Path.Combine(circDir, $"step-{steps[i]:D6}.json"), includeAllScores: true);
        lora?.Dispose();
        return new MethodRun(method, before, after, trainable, steps, circuits, faith, result.Losses, plan?.CriticalLayers);
    }

    private void WriteFaithfulnessCurve(HookedTransformer model, CircuitProbe probe, Circuits.Attribution.EdgeScores scores)
    {
        int real = scores.RealEdges.Count(x => x);
        var budgets = new[] { 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1.0 }.Select(f => Math.Max(1, (int)(f * real))).Distinct().ToList();
        using var eval = new Circuits.Attribution.FaithfulnessEvaluator(model, probe.Batch);
        var curve = eval.Curve(scores, budgets);
        _faithCurve = budgets.Zip(curve, (b, r) => (b, r.Normalized)).ToList();
        WriteCsv("faithfulness_vs_budget.csv", "edges,fraction,faithfulness",
            _faithCurve.Select(x => $"{x.Item1},{(double)x.Item1 / real:F4},{x.Item2:F6}"));
    }

    private List<(int, double)> _faithCurve = [];

    private void WriteOutputs(IReadOnlyList<MethodRun> runs)
    {
        var report = new HtmlReport("CircuitNotebooks — circuit dynamics during fine-tuning")
            .Paragraph($"Model {s.Model}, task {s.Task}, {s.Steps} steps, circuits every {s.CheckpointEvery} steps " +
                       $"(EAP-IG over inputs, m = {s.IgSteps}, top {s.EdgeFraction:P0} of edges, pruned).");
        var summary = new List<string>();
        foreach (var r in runs)
        {
            // Explicit pairwise comparisons: index i is checkpoint i against the base and against checkpoint i-1.
            var vsBase = r.Circuits.Select(c => CircuitComparison.Compare(r.Circuits[0], c)).ToList();
            var vsPrev = r.Circuits.Select((c, i) => CircuitComparison.Compare(r.Circuits[Math.Max(0, i - 1)], c)).ToList();
            var x = r.Steps.Select(v => (double)v).ToList();
            WriteCsv($"similarity_{r.Method}.csv", "step,node_jaccard_vs_base,edge_jaccard_vs_base,node_jaccard_vs_prev,edge_jaccard_vs_prev,nodes,edges,faithfulness",
                r.Steps.Select((st, i) => string.Join(",", st,
                    F(vsBase[i].NodeJaccard), F(vsBase[i].EdgeJaccard),
                    F(vsPrev[i].NodeJaccard), F(vsPrev[i].EdgeJaccard),
                    r.Circuits[i].NodesInCircuit().Count(), r.Circuits[i].EdgeCountInCircuit, F(r.Faithfulness[i]))));
            WriteCsv($"loss_{r.Method}.csv", "step,loss", r.Losses.Select((l, i) => $"{i + 1},{F(l)}"));
            report.Section($"{r.Method}: accuracy {r.AccuracyBefore:P1} → {r.AccuracyAfter:P1}")
                .Chart(LineCurves.SimilarityOverCheckpoints(x, vsBase.Select(d => d.NodeJaccard).ToList(),
                    vsBase.Select(d => d.EdgeJaccard).ToList(), $"{r.Method}: similarity to the base circuit"))
                .Chart(LineCurves.TrainingCurves(Enumerable.Range(1, r.Losses.Count).Select(i => (double)i).ToList(), r.Losses, null, $"{r.Method}: training loss"));
            summary.Add($"{r.Method},{F(r.AccuracyBefore)},{F(r.AccuracyAfter)},{r.TrainableParameters},{F(vsBase[^1].NodeJaccard)},{F(vsBase[^1].EdgeJaccard)},{F(r.Faithfulness[^1])},{(r.CriticalLayers is null ? "" : string.Join(" ", r.CriticalLayers))}");
        }
        WriteCsv("summary.csv", "method,accuracy_before,accuracy_after,trainable_parameters,final_node_jaccard,final_edge_jaccard,final_faithfulness,critical_layers", summary);
        if (_faithCurve.Count > 0)
            report.Section("Faithfulness of the base circuit vs edge budget")
                .Chart(LineCurves.FaithfulnessVsEdgeBudget(_faithCurve.Select(c => (double)c.Item1).ToList(),
                    [new CurveSeries("EAP-IG", _faithCurve.Select(c => c.Item2).ToList())]));
        var lora = runs.FirstOrDefault(r => r.Method == "lora");
        var clora = runs.FirstOrDefault(r => r.Method == "circuitlora");
        if (lora is not null && clora is not null)
        {
            var change = CircuitLoRaPlanner.LayerEdgeChange(lora.Circuits[0], lora.Circuits[^1]);
            WriteCsv("layer_edge_change.csv", "layer,change", change.Select((c, l) => $"{l},{F(c)}"));
            report.Section("LoRA vs CircuitLoRA")
                .Chart(Bars.LoraComparison(["accuracy after"], [lora.AccuracyAfter], [clora.AccuracyAfter], yTitle: "exact match"))
                .Chart(Bars.PerLayerEdgeChange(change, "Edge change per layer (LoRA run; source-node layer)", "Σ |Δ score|"));
        }
        report.Section("Summary").Preformatted(string.Join("\n", summary.Prepend("method,acc_before,acc_after,trainable,node_J,edge_J,faithfulness,critical")));
        report.Save(Path.Combine(s.Out, "report.html"));
    }

    private string F(double v) => v.ToString("G6", _ic);

    private void WriteCsv(string name, string header, IEnumerable<string> rows) =>
        WriteText(name, header + "\n" + string.Join("\n", rows) + "\n");

    private void WriteText(string name, string text)
    {
        var path = Path.Combine(s.Out, name);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, text, Encoding.UTF8);
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and race the trainer).</summary>
internal sealed class SyncProgress<T>(Action<T> on) : IProgress<T>
{
    public void Report(T value) => on(value);
}
