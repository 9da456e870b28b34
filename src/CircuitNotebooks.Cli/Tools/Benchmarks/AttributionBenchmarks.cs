using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using System.Diagnostics;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Tools;

/// <summary>Measured cost ratios of the attribution pipeline (targets in brackets, see the issue).</summary>
public sealed record AttributionBenchmarkResult(
    double ForwardSeconds,
    double BackwardSeconds,
    /// <summary>EAP-IG(m) wall time / ((m + 2) forwards + m backwards of the plain model) [≤ 1.3].</summary>
    double EapIgRatio,
    /// <summary>One faithfulness evaluation (corrupted activations cached) / one plain forward [≤ 1.5].</summary>
    double FaithfulnessRatio,
    /// <summary>Peak resident memory added by one EAP scoring run (both forwards, backward, contraction), bytes, from
    /// Linux VmHWM after trimming the heap and resetting the mark (<see cref="ProcessMemory"/>); -1 when unavailable.</summary>
    long ScoringPeakBytes,
    /// <summary>n_fwd × d_model × tokens × bytes per element: the size of the source-difference tensor.</summary>
    long ReferenceBytes,
    /// <summary>ScoringPeakBytes / ReferenceBytes (NaN when the peak is unavailable).</summary>
    double MemoryRatio,
    /// <summary>Peak resident memory added by one plain forward + backward of the same batch, measured the same way:
    /// the floor any gradient-based scoring pays before it stores a single edge score.</summary>
    long ForwardBackwardPeakBytes,
    /// <summary>Activation patching of every head (hook_z, all positions): naive per-cell loop time / batched time.</summary>
    double HeadPatchingSpeedup)
{
    public override string ToString() =>
        $"forward {ForwardSeconds * 1e3:F1} ms, backward {BackwardSeconds * 1e3:F1} ms; EAP-IG ratio {EapIgRatio:F2} (≤1.3); " +
        $"faithfulness ratio {FaithfulnessRatio:F2} (≤1.5); scoring peak {ScoringPeakBytes / 1048576.0:F1} MiB vs reference " +
        $"{ReferenceBytes / 1048576.0:F1} MiB (×{MemoryRatio:F2}), plain forward+backward peak {ForwardBackwardPeakBytes / 1048576.0:F1} MiB; " +
        $"batched head patching speedup ×{HeadPatchingSpeedup:F1}";
}

public static class AttributionBenchmarks
{
    /// <summary>Times the pieces on <paramref name="batch"/> (best of <paramref name="repeats"/> interleaved rounds after a warm-up).</summary>
    public static AttributionBenchmarkResult Run(HookedTransformer model, AttributionBatch batch, int m = 5, int repeats = 3)
    {
        var g = CircuitGraph.FromConfig(model.Config);
        var options = new AttributionOptions { Method = AttributionMethod.EapIgInputs, Steps = m };
        long tokens = batch.Clean.numel();
        long bytes = model.DType.ElementSize();
        long reference = g.ForwardCount * (long)model.Config.DModel * tokens * bytes;
        long peak = ProcessMemory.PeakGrowth(() => EdgeAttribution.Compute(model, batch, options with { Steps = 1 }));
        long fwdBwdPeak = ProcessMemory.PeakGrowth(() => ForwardBackward(model, batch));
        // The paper's budget: the top 5 % of edges by |EAP-IG score| on this batch.
        var circuit = CircuitSelection.TopN(EdgeAttribution.Compute(model, batch, options).ToCircuit(), g.EdgeCount / 20);
        using var eval = new FaithfulnessEvaluator(model, batch);
        using var ablation = Ablation.Patching(batch.Corrupted, batch.AttentionMask);
        ablation.Prepare(model, Enumerable.Range(0, model.Config.NLayers).Select(l => $"blocks.{l}.attn.hook_z"));
        Action[] runs =
        [
            () => { using var s = NewDisposeScope(); using var _ = no_grad(); model.Forward(batch.Clean, batch.AttentionMask); },
            () => { using var s = NewDisposeScope(); using var _ = enable_grad(); model.Forward(batch.Clean, batch.AttentionMask); },
            () => ForwardBackward(model, batch),
            () => EdgeAttribution.Compute(model, batch, options),
            () => eval.Evaluate(circuit),
            () => ActivationPatching.HeadOutAllPos(model, batch.Clean, ablation, batch.Metric, batch.AttentionMask,
                new PatchingOptions { Batched = false }),
            () => ActivationPatching.HeadOutAllPos(model, batch.Clean, ablation, batch.Metric, batch.AttentionMask,
                new PatchingOptions { Batched = true }),
        ];
        var best = BestTimes(runs, repeats);
        double forward = best[0], forwardGrad = best[1], forwardBackward = best[2], ig = best[3], faith = best[4];
        double naive = best[5], batched = best[6];
        double backward = Math.Max(0, forwardBackward - forwardGrad);

        return new AttributionBenchmarkResult(forward, backward, ig / ((m + 2) * forward + m * backward), faith / forward,
            peak, reference, peak < 0 ? double.NaN : (double)peak / reference, fwdBwdPeak, naive / batched);
    }

    private static void ForwardBackward(HookedTransformer model, AttributionBatch batch)
    {
        using var s = NewDisposeScope();
        using var _ = enable_grad();
        var logits = model.Forward(batch.Clean, batch.AttentionMask);
        // Gradient w.r.t. the embedding matrix forces a backward through every layer, no other weight grads.
        autograd.grad([batch.Metric.Mean(logits)], [model.embed_W_E]);
    }

    /// <summary>
    /// Best (minimum) wall time of each run over <paramref name="repeats"/> interleaved rounds after one warm-up each:
    /// interleaving exposes every measure to the same machine noise, and the minimum is the least noisy estimate of
    /// what the work itself costs.
    /// </summary>
    private static double[] BestTimes(Action[] runs, int repeats)
    {
        foreach (var run in runs) run();
        var best = Enumerable.Repeat(double.MaxValue, runs.Length).ToArray();
        for (int r = 0; r < Math.Max(1, repeats); r++)
            for (int i = 0; i < runs.Length; i++)
            {
                var sw = Stopwatch.StartNew();
                runs[i]();
                best[i] = Math.Min(best[i], sw.Elapsed.TotalSeconds);
            }
        return best;
    }
}
