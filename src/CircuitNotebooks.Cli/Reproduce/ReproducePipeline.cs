using CircuitNotebooks.Circuits;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Cli.Options;
using CircuitNotebooks.FineTuning;
using CircuitNotebooks.Models;
using CircuitNotebooks.Tasks;
using System.Diagnostics;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>
/// The main job (Wang et al. 2025, scaled down): fine-tune with full FT, LoRA and CircuitLoRA (matched parameter
/// budget), discover an EAP-IG circuit at every checkpoint, and measure node/edge change, critical layers,
/// faithfulness vs edge budget and union vs composite circuits. Resumable: every finished checkpoint, circuit and
/// phase is on disk (see <see cref="RunStore"/>) and is read back instead of recomputed; cancellation stops after
/// the current training step or circuit with everything finished so far saved.
/// </summary>
public sealed class ReproducePipeline(ReproduceSettings s, IRunReporter reporter)
{
    // The paper's table (1–10 %) and the rest of the curve.
    private static readonly double[] BudgetPercents = [1, 2, 3, 4, 5, 6, 8, 10, 20, 50, 100];
    private RunStore _store = null!;
    private Device _device = CPU;
    private ScalarType _dtype;
    private readonly Dictionary<string, double> _stageSeconds = [];

    private void Time(string stage, Stopwatch clock) =>
        _stageSeconds[stage] = _stageSeconds.GetValueOrDefault(stage) + clock.Elapsed.TotalSeconds;

    public ReproduceResult Run(CancellationToken ct)
    {
        s.Validate();
        var total = Stopwatch.StartNew();
        _device = ModelLoading.ParseDevice(s.Device);
        _dtype = ModelLoading.ParseDType(s.DType);
        {
            // Model and task are checked before anything is written to --out.
            using var baseModel = Load();
            using var threads = TorchThreads.For(baseModel);
            var data = TaskCatalog.Load(baseModel, s.Task, s.Examples, s.Seed);
            var probeSet = data.Test.Take(s.AttributionExamples).ToList();
            using var probe = new CircuitProbe(baseModel, probeSet, s.Task, s.DiscoveryOptions, s.TaskMetric);

            var dir = new OutputDirectory(s.Out);
            _store = new RunStore(dir);
            _store.BeginOrResume(s, out bool resumed);
            reporter.Log(resumed ? $"resuming in {dir.Root}" : $"writing to {dir.Root}");
            reporter.Log($"task {s.Task}: {data.Train.Count} train / {data.Test.Count} test examples " +
                         $"({data.Validation.Rejected} rejected by the tokenizer check); circuits on {probeSet.Count} ({probe.MetricName})");

            var baseClock = Stopwatch.StartNew();
            var baseCircuit = CircuitAt(RunStore.CircuitPath("base", "base"), baseModel, probe, "base model", ct);
            var baseResult = _store.TryLoadResult<BaseResult>("base") ?? SaveBase(baseModel, data, probe, baseCircuit);
            Time("base", baseClock);
            reporter.Log($"base model: accuracy {baseResult.Accuracy:P1}; circuit {baseCircuit.Circuit.NodeCountInCircuit} nodes, " +
                         $"{baseCircuit.Circuit.EdgeCountInCircuit} edges, faithfulness {baseCircuit.Faithfulness:F3}");

            var runs = new List<MethodRun>();
            foreach (var seed in s.SeedList)
                foreach (var method in s.OrderedMethods)
                {
                    ct.ThrowIfCancellationRequested();
                    var clock = Stopwatch.StartNew();
                    var run = Method(method, seed, data, probe, baseResult, baseCircuit, runs, ct);
                    Time(method, clock);
                    runs.Add(run);
                    reporter.Log($"{run.RunId}: accuracy {run.Result.AccuracyBefore:P1} → {run.Result.AccuracyAfter:P1}, " +
                                 $"trainable {run.Result.TrainableParameters:N0} ({run.Result.TrainableRatio:P2})");
                }

            CompositionResult? composition = null;
            if (s.Composition)
            {
                ct.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                try { composition = Composition(baseModel, ct); }
                catch (CliException e) { reporter.Log($"composition analysis skipped: {e.Message}"); }
                Time("composition", clock);
            }

            var result = new ReproduceResult(s, baseResult, baseCircuit, runs, composition, dir.Root);
            var reportClock = Stopwatch.StartNew();
            using (reporter.Phase("report", 1)) ReproduceReport.Write(result, dir);
            var findings = ReproduceFindings.Write(result, dir, total.Elapsed.TotalSeconds);
            Time("report", reportClock);
            reporter.Log("findings: " + string.Join("; ", findings.Select(kv =>
                $"{kv.Key} {kv.Value.Ours:G3}{(kv.Value.Ci95 is { } ci ? $" [{ci[0]:G3}, {ci[1]:G3}]" : "")} ({(kv.Value.Holds ? "holds" : "does not hold")})")));
            // Time by stage of this invocation (a resumed run counts only what it did itself).
            reporter.Log("time by stage: " + string.Join(", ", _stageSeconds.Select(kv => $"{kv.Key} {kv.Value:F1} s")));
            return result;
        }
    }

    private HookedTransformer Load() => ModelLoading.Load(s.Model, _device, _dtype);

    private BaseResult SaveBase(HookedTransformer model, TaskData data, CircuitProbe probe, StoredCircuit baseCircuit)
    {
        using var phase = reporter.Phase("base model: accuracy and faithfulness curve", 2);
        double accuracy = Evaluation.ExactMatch(model, data.Test);
        phase.Advance();
        var budgets = Budgets(baseCircuit.Circuit.Graph.EdgeCount);
        var curve = probe.Curves(model, [baseCircuit.Circuit], budgets)[0];
        phase.Advance();
        var result = new BaseResult(accuracy, budgets, curve, probe.MetricName, data.Train.Count, data.Test.Count, probe.Examples);
        _store.SaveResult("base", result);
        return result;
    }

    public static IReadOnlyList<int> Budgets(int realEdges) =>
        BudgetPercents.Select(p => Math.Clamp(CircuitSelection.EdgesForFraction(realEdges, p / 100), 1, realEdges)).Distinct().ToList();

    /// <summary>The stored circuit at <paramref name="rel"/>, or a fresh discovery with the model as it is now (then saved).</summary>
    private StoredCircuit CircuitAt(string rel, HookedTransformer model, CircuitProbe probe, string label, CancellationToken ct)
    {
        if (_store.TryLoadCircuit(rel, model.Config) is { } stored) return stored;
        using var phase = reporter.Phase($"circuit: {label} (EAP-IG, m = {s.IgSteps})", probe.Examples);
        var d = probe.Discover(model, label, new SyncProgress<int>(n => phase.SetValue(n)), ct);
        return _store.SaveCircuit(rel, d.Circuit, d.Faithfulness!.Normalized);
    }

    /// <summary>Steps whose circuits are analysed: every --checkpoint-every steps, and the last step.</summary>
    private IReadOnlyList<int> CircuitSteps() =>
        Enumerable.Range(1, s.Steps / s.CheckpointEvery).Select(k => k * s.CheckpointEvery).Append(s.Steps).Distinct().ToList();

    private MethodRun Method(string method, int seed, TaskData data, CircuitProbe probe, BaseResult baseResult, StoredCircuit baseCircuit,
        IReadOnlyList<MethodRun> earlier, CancellationToken ct)
    {
        var steps = CircuitSteps();
        string id = MethodRun.IdFor(method, seed, s.Seed);
        string CircuitRel(int step) => RunStore.CircuitPath(id, RunStore.StepName(step));
        if (_store.TryLoadResult<MethodResult>(id) is { } done && steps.All(st => _store.HasCircuit(CircuitRel(st))))
        {
            using var model0 = Load();
            var loaded = steps.Select(st => _store.TryLoadCircuit(CircuitRel(st), model0.Config)!).Prepend(baseCircuit).ToList();
            reporter.Log($"{id}: finished earlier, read from disk");
            return new MethodRun(done, loaded) { FirstSeed = s.Seed };
        }

        using var model = Load();
        LoraModel? lora = null;
        List<int>? critical = null;
        int? ro = null, rc = null;
        double[]? layerChange = null;
        try
        {
            var loraConfig = new LoraConfig { Rank = s.LoraRank, Alpha = 2 * s.LoraRank };
            if (method == "lora") lora = LoraModel.Attach(model, loraConfig, seed);
            else if (method is "circuitlora" or "randomlayers")
            {
                var loraRun = earlier.Single(r => r.Method == "lora" && r.Result.Seed == seed);
                int k = s.CriticalLayers ?? Math.Max(1, Math.Min(CircuitLoraPlanner.DefaultCriticalLayers, model.Config.NLayers / 2));
                k = Math.Min(k, model.Config.NLayers);
                layerChange = CircuitLoraPlanner.LayerEdgeChange(baseCircuit.Circuit, loraRun.Circuits[^1].Circuit);
                var chosen = CircuitLoraPlanner.CriticalLayers(layerChange, k: k);
                if (method == "randomlayers") chosen = RandomLayers(model.Config.NLayers, chosen, seed);
                var (plan, budget) = CircuitLoraPlanner.PlanMatchingLora(model.Config, chosen, s.LoraRank);
                (critical, ro, rc) = ([.. plan.CriticalLayers], budget.OtherRank, budget.CriticalRank);
                reporter.Log($"{id}: {(method == "circuitlora" ? "critical" : "random")} layers {string.Join(",", critical)}; r_o = {ro}, r_c = {rc} " +
                             $"(LoRA r = {s.LoraRank} on every layer has {budget.TargetParameters:N0} parameters, this plan {budget.PlanParameters:N0})");
                lora = LoraModel.Attach(model, plan.ToLoraConfig(loraConfig), seed);
            }
            long trainable = lora?.TrainableParameterCount ?? model.parameters().Where(x => x.requires_grad).Sum(x => x.numel());
            double ratio = (double)trainable / model.ParameterCount;

            var examples = data.Train.Select(e => TrainingExample.FromTask(model, e)).ToList();
            var cfg = new TrainingConfig
            {
                Steps = s.Steps, BatchSize = s.BatchSize, LearningRate = lora is null ? s.FullLearningRate : s.LoraLearningRate,
                GradAccumulation = s.GradAccumulation, WarmupSteps = Math.Min(10, s.Steps / 5), Seed = seed, Schedule = LrScheduleKind.Linear, CheckpointEvery = s.CheckpointEvery,
            };
            var runDir = Path.Combine(_store.Directory.Root, "runs", id);
            var trainer = new Trainer(model, cfg, lora, runDir);

            using (var train = reporter.Phase($"{id}: fine-tune {s.Steps} steps", s.Steps))
            using (var circuits = reporter.Phase($"{id}: circuits at {steps.Count} checkpoints", steps.Count))
            {
                circuits.SetValue(steps.Count(st => _store.HasCircuit(CircuitRel(st))));
                var onStep = new SyncProgress<TrainingProgress>(p =>
                {
                    train.SetValue(p.Step);
                    if (!steps.Contains(p.Step) || _store.HasCircuit(CircuitRel(p.Step))) return;
                    bool wasTraining = lora?.Training ?? false;
                    if (lora is not null) lora.Training = false;
                    var d = probe.Discover(model, $"{id} step {p.Step}", null, ct);
                    if (lora is not null) lora.Training = wasTraining;
                    _store.SaveCircuit(CircuitRel(p.Step), d.Circuit, d.Faithfulness!.Normalized);
                    circuits.Advance();
                    if (!s.KeepCheckpoints) DropOlderCheckpoints(runDir, p.Step, st => st == 0 || _store.HasCircuit(CircuitRel(st)));
                    reporter.Log($"  {id} step {p.Step}: loss {p.Loss:F4}, circuit {d.Circuit.NodeCountInCircuit} nodes / " +
                                 $"{d.Circuit.EdgeCountInCircuit} edges, faithfulness {d.Faithfulness!.Normalized:F3}");
                });
                var result = trainer.Train(examples, null, onStep, ct, resume: true);
                if (result.Cancelled) throw new OperationCanceledException(ct);
                if (result.ResumedFromStep > 0) reporter.Log($"{id}: resumed from checkpoint step {result.ResumedFromStep}");

                // A checkpoint whose circuit was not finished (stopped in between): analyse it from the saved weights.
                var missing = steps.Where(st => !_store.HasCircuit(CircuitRel(st))).ToList();
                if (missing.Count > 0)
                {
                    var infos = CheckpointManager.List(runDir).ToDictionary(i => i.Step);
                    var manager = new CheckpointManager(runDir);
                    foreach (var st in missing)
                    {
                        ct.ThrowIfCancellationRequested();
                        if (!infos.TryGetValue(st, out var info))
                            throw new InvalidOperationException($"{runDir}: no checkpoint for step {st}; delete the folder and run again.");
                        manager.LoadInto(info, model, lora);
                        var d = probe.Discover(model, $"{id} step {st}", null, ct);
                        _store.SaveCircuit(CircuitRel(st), d.Circuit, d.Faithfulness!.Normalized);
                        circuits.Advance();
                    }
                    manager.LoadInto(infos[s.Steps], model, lora);
                }

                var series = steps.Select(st => _store.TryLoadCircuit(CircuitRel(st), model.Config)!).Prepend(baseCircuit).ToList();
                double after = Evaluation.ExactMatch(model, data.Test);
                var finalCurve = probe.Curves(model, [series[^1].Circuit], baseResult.Budgets)[0];
                var methodResult = new MethodResult(method, baseResult.Accuracy, after, trainable, ratio, [0, .. steps], result.Losses,
                    finalCurve, critical, ro, rc, layerChange, seed);
                _store.SaveResult(id, methodResult);
                return new MethodRun(methodResult, series) { FirstSeed = s.Seed };
            }
        }
        finally
        {
            lora?.Dispose();
        }
    }

    /// <summary>
    /// CircuitLoRA's control: as many layers as <paramref name="critical"/>, drawn at random (seeded) among the other
    /// subsets, so the control differs from CircuitLoRA whenever another subset exists.
    /// </summary>
    public static IReadOnlyList<int> RandomLayers(int layers, IReadOnlyList<int> critical, int seed)
    {
        var rng = new Random(seed * 7919 + 17);
        for (int attempt = 0; ; attempt++)
        {
            var pick = Enumerable.Range(0, layers).OrderBy(_ => rng.Next()).Take(critical.Count).Order().ToList();
            if (!pick.SequenceEqual(critical.Order()) || attempt >= 100) return pick;
        }
    }

    /// <summary>Deletes checkpoints before <paramref name="latest"/> whose circuit is done: resuming needs only the latest.</summary>
    private static void DropOlderCheckpoints(string runDir, int latest, Func<int, bool> analysed)
    {
        foreach (var info in CheckpointManager.List(runDir))
            if (info.Step < latest && analysed(info.Step) && info.Directory is { } d) System.IO.Directory.Delete(d, recursive: true);
    }

    private CompositionResult Composition(HookedTransformer model, CancellationToken ct)
    {
        const string composite = "composite";
        string[] subTasks = ["composite-bracket", "composite-outer"];
        if (_store.TryLoadResult<CompositionResult>("composition") is { } done) return done;

        var circuits = new Dictionary<string, StoredCircuit>();
        CircuitProbe? compositeProbe = null;
        try
        {
            foreach (var task in subTasks.Prepend(composite))
            {
                ct.ThrowIfCancellationRequested();
                var data = TaskCatalog.Load(model, task, Math.Min(s.Examples, 500), s.Seed);
                var probe = new CircuitProbe(model, data.Test.Take(s.AttributionExamples).ToList(), task, s.DiscoveryOptions, s.TaskMetric);
                circuits[task] = CircuitAt(RunStore.CircuitPath("composition", task), model, probe, $"{task} (base model)", ct);
                if (task == composite) compositeProbe = probe;
                else probe.Dispose();
            }
            var comp = circuits[composite].Circuit;
            var union = CircuitComposition.Merge(subTasks.Select(t => circuits[t].Circuit).ToList(), comp.EdgeCountInCircuit)
                .WithMetadata(new CircuitMetadata { Task = composite, Method = "union of sub-task circuits", Label = "union",
                    ModelFingerprint = model.Config.Fingerprint, Metric = comp.Metadata.Metric, IgSteps = s.IgSteps });
            using var phase = reporter.Phase("composition: union vs composite faithfulness", 1);
            double unionFaith = compositeProbe!.Faithfulness(model, union);
            _store.SaveCircuit(RunStore.CircuitPath("composition", "union"), union, unionFaith);
            var budgets = Budgets(comp.Graph.EdgeCount);
            var curves = compositeProbe.Curves(model, [comp, union], budgets);
            var diff = CircuitComparison.Compare(comp, union);
            var result = new CompositionResult(composite, subTasks, circuits[composite].Faithfulness, unionFaith,
                subTasks.Select(t => circuits[t].Faithfulness).ToList(), diff.NodeJaccard, diff.EdgeJaccard,
                comp.EdgeCountInCircuit, union.EdgeCountInCircuit, comp.NodeCountInCircuit, union.NodeCountInCircuit,
                budgets, curves[0], curves[1]);
            _store.SaveResult("composition", result);
            reporter.Log($"composition: union of sub-task circuits vs composite circuit: node J {diff.NodeJaccard:F2}, edge J {diff.EdgeJaccard:F2}; " +
                         $"faithfulness {unionFaith:F3} (union) vs {result.CompositeFaithfulness:F3} (composite)");
            return result;
        }
        finally { compositeProbe?.Dispose(); }
    }
}

/// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and race the trainer).</summary>
internal sealed class SyncProgress<T>(Action<T> on) : IProgress<T>
{
    public void Report(T value) => on(value);
}
