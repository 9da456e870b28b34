using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Tools;

/// <summary>Measured cost ratios of the attribution pipeline, each the median over interleaved rounds with its range.</summary>
public sealed record AttributionBenchmarkResult(
    Spread ForwardSeconds,
    Spread BackwardSeconds,
    /// <summary>EAP-IG(m) wall time / ((m + 2) forwards + m backwards of the plain model), per round [≤ 1.3].</summary>
    Spread EapIgRatio,
    /// <summary>One faithfulness evaluation (corrupted activations cached) / one plain forward, per round [≤ 1.5].</summary>
    Spread FaithfulnessRatio,
    /// <summary>Peak resident memory added by one EAP-IG(m) call (<see cref="ProcessMemory"/>), bytes.</summary>
    Spread ScoringPeakBytes,
    /// <summary>Peak resident memory added by one plain forward + backward of the same batch, measured the same way:
    /// the floor any gradient-based scoring pays before it stores a single edge score.</summary>
    Spread ForwardBackwardPeakBytes,
    /// <summary>n_fwd × d_model × tokens × bytes per element: the corrupt − clean buffer scoring keeps.</summary>
    long DeltaBytes,
    /// <summary>Scoring peak / (2 × Δ buffer + plain forward + backward peak), per round [≤ 1].</summary>
    Spread MemoryRatio,
    /// <summary>Activation patching of every head (hook_z, all positions): naive per-cell loop time / batched time.</summary>
    Spread HeadPatchingSpeedup)
{
    public override string ToString() =>
        $"forward {ForwardSeconds.Median * 1e3:F1} ms, backward {BackwardSeconds.Median * 1e3:F1} ms; EAP-IG ratio {EapIgRatio} (≤1.3); " +
        $"faithfulness ratio {FaithfulnessRatio} (≤1.5); scoring peak {ScoringPeakBytes.Median / 1048576.0:F1} MiB, Δ buffer " +
        $"{DeltaBytes / 1048576.0:F1} MiB, plain forward+backward peak {ForwardBackwardPeakBytes.Median / 1048576.0:F1} MiB, " +
        $"peak / (2Δ + fwd+bwd) {MemoryRatio} (≤1); batched head patching speedup ×{HeadPatchingSpeedup}";
}

public static class AttributionBenchmarks
{
    /// <summary>
    /// Times the pieces on <paramref name="batch"/> over <paramref name="rounds"/> interleaved rounds after a warm-up
    /// and takes peak memory from <paramref name="memory"/> (a <see cref="MemoryProbe"/> of the same model and batch;
    /// NaN when absent). <paramref name="headPatching"/> adds the (slow) naive-vs-batched patching comparison.
    /// </summary>
    public static AttributionBenchmarkResult Run(HookedTransformer model, AttributionBatch batch, int m = 5, int rounds = 5,
        Func<MemoryProbeResult?>? memory = null, bool headPatching = true, IProgress<string>? progress = null)
    {
        var g = CircuitGraph.FromConfig(model.Config);
        var options = new AttributionOptions { Method = AttributionMethod.EapIgInputs, Steps = m };
        long delta = g.ForwardCount * (long)model.Config.DModel * batch.Clean.numel() * model.DType.ElementSize();

        progress?.Report("memory: EAP-IG vs plain forward + backward (in a child process)");
        var probe = memory?.Invoke();
        double[] scoringPeak = probe?.Scoring[0] ?? [double.NaN], fbPeak = probe?.ForwardBackward[0] ?? [double.NaN];
        var bounds = fbPeak.Select(f => 2.0 * delta + f).ToList();

        progress?.Report("time: forward, backward, EAP-IG, faithfulness");
        var t = AttributionTimings.Measure(model, batch, options, rounds, calls: 3);

        var speedup = new Spread(double.NaN, double.NaN, double.NaN, 0);
        if (headPatching)
        {
            progress?.Report("time: activation patching of every head, naive vs batched");
            using var ablation = Ablation.Patching(batch.Corrupted, batch.AttentionMask);
            ablation.Prepare(model, Enumerable.Range(0, model.Config.NLayers).Select(l => $"blocks.{l}.attn.hook_z"));
            var p = Spread.Time([
                () => ActivationPatching.HeadOutAllPos(model, batch.Clean, ablation, batch.Metric, batch.AttentionMask, new PatchingOptions { Batched = false }),
                () => ActivationPatching.HeadOutAllPos(model, batch.Clean, ablation, batch.Metric, batch.AttentionMask, new PatchingOptions { Batched = true }),
            ], Math.Min(rounds, 3));
            speedup = Spread.Ratio(p[0], p[1]);
        }

        return new AttributionBenchmarkResult(Spread.Of(t.Forward), Spread.Of(t.Backward), t.EapIgRatio, t.FaithfulnessRatio, Spread.Of(scoringPeak), Spread.Of(fbPeak), delta, Spread.Ratio(scoringPeak, bounds), speedup);
    }

    /// <summary>Peak growth in bytes, NaN where it cannot be measured (no /proc, not glibc).</summary>
    internal static double Peak(Action run) => ProcessMemory.PeakGrowth(run) is var b and >= 0 ? b : double.NaN;

    /// <summary>
    /// One plain forward (full logits, as the model normally runs) and a backward through every layer to the embedded
    /// input, which is made a leaf: no weight gradients, and not the embedding table's (a dense d_vocab × d_model
    /// gradient would inflate both the time and the memory of the baseline at large vocabularies).
    /// </summary>
    internal static void ForwardBackward(HookedTransformer model, AttributionBatch batch)
    {
        using var s = NewDisposeScope();
        using var _ = enable_grad();
        Tensor? input = null;
        var logits = model.RunWithHooks(batch.Clean, [("blocks.0.hook_resid_pre", (act, h) =>
            input = act.detach().requires_grad_(true).MoveToOuterDisposeScope())], batch.AttentionMask);
        autograd.grad([batch.Metric.Mean(logits)], [input!]);
    }
}
