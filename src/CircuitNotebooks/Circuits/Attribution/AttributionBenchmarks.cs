using System.Diagnostics;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Circuits.Attribution;

/// <summary>Measured cost ratios of the attribution pipeline (targets in brackets, see the issue).</summary>
public sealed record AttributionBenchmarkResult(
    double ForwardSeconds,
    double BackwardSeconds,
    /// <summary>EAP-IG(m) wall time / ((m + 2) forwards + m backwards of the plain model) [≤ 1.3].</summary>
    double EapIgRatio,
    /// <summary>One faithfulness evaluation (corrupted activations cached) / one plain forward [≤ 1.5].</summary>
    double FaithfulnessRatio,
    /// <summary>Peak resident memory added by one EAP scoring run (both forwards, backward, matmul), bytes, from Linux
    /// VmHWM after resetting it; -1 when unavailable. Measured first, but memory the allocator already holds is not
    /// counted, so in a long-running process it is a lower bound.</summary>
    long ScoringPeakBytes,
    /// <summary>n_fwd × d_model × tokens × bytes per element: the size of the source-difference tensor.</summary>
    long ReferenceBytes,
    /// <summary>ScoringPeakBytes / ReferenceBytes (NaN when the peak is unavailable).</summary>
    double MemoryRatio,
    /// <summary>Activation patching of every head (hook_z, all positions): naive per-cell loop time / batched time.</summary>
    double HeadPatchingSpeedup)
{
    public override string ToString() =>
        $"forward {ForwardSeconds * 1e3:F1} ms, backward {BackwardSeconds * 1e3:F1} ms; EAP-IG ratio {EapIgRatio:F2} (≤1.3); " +
        $"faithfulness ratio {FaithfulnessRatio:F2} (≤1.5); scoring peak {ScoringPeakBytes / 1048576.0:F1} MiB vs reference " +
        $"{ReferenceBytes / 1048576.0:F1} MiB (×{MemoryRatio:F2}); batched head patching speedup ×{HeadPatchingSpeedup:F1}";
}

public static class AttributionBenchmarks
{
    /// <summary>Times the pieces on <paramref name="batch"/> (median of <paramref name="repeats"/> runs after a warm-up).</summary>
    public static AttributionBenchmarkResult Run(HookedTransformer model, AttributionBatch batch, int m = 5, int repeats = 3)
    {
        EdgeForward.Validate(model, batch);
        var g = new EdgeLayout(model.Config);
        var options = new AttributionOptions { Method = AttributionMethod.EapIgInputs, Steps = m };
        long tokens = batch.Clean.numel();
        long bytes = model.DType.ElementSize();
        long reference = g.NForward * (long)model.Config.DModel * tokens * bytes;
        // First, before the timing runs warm the allocator's free lists (which would hide the growth).
        long peak = PeakExtraBytes(() => EdgeAttribution.Compute(model, batch, options with { Steps = 1 }));
        double forward = Median(repeats, () =>
        {
            using var s = NewDisposeScope();
            using var _ = no_grad();
            model.Forward(batch.Clean, batch.AttentionMask);
        });
        double forwardBackward = Median(repeats, () =>
        {
            using var s = NewDisposeScope();
            using var _ = enable_grad();
            var logits = model.Forward(batch.Clean, batch.AttentionMask);
            // Gradient w.r.t. the embedding matrix forces a backward through every layer, no other weight grads.
            autograd.grad([batch.Metric.Mean(logits)], [model.embed_W_E]);
        });
        double forwardGrad = Median(repeats, () =>
        {
            using var s = NewDisposeScope();
            using var _ = enable_grad();
            model.Forward(batch.Clean, batch.AttentionMask);
        });
        double backward = Math.Max(0, forwardBackward - forwardGrad);

        double ig = Median(repeats, () => EdgeAttribution.Compute(model, batch, options));

        double faith;
        using (var eval = new FaithfulnessEvaluator(model, batch))
        {
            var circuit = new EdgeScores(g, new float[g.NForward * g.NBackward], g.RealEdges(), 0).TopEdgeMask(g.EdgeCount / 20);
            faith = Median(repeats, () => eval.Evaluate(circuit));
        }


        double naive, batched;
        using (var ablation = Ablation.Patching(batch.Corrupted, batch.AttentionMask))
        {
            ablation.Prepare(model, Enumerable.Range(0, model.Config.NLayers).Select(l => $"blocks.{l}.attn.hook_z"));
            naive = Median(1, () => ActivationPatching.HeadOutAllPos(model, batch.Clean, ablation, batch.Metric, batch.AttentionMask,
                new PatchingOptions { Batched = false }));
            batched = Median(1, () => ActivationPatching.HeadOutAllPos(model, batch.Clean, ablation, batch.Metric, batch.AttentionMask,
                new PatchingOptions { Batched = true, MaxCopiesPerForward = model.Config.NHeads * model.Config.NLayers }));
        }

        return new AttributionBenchmarkResult(forward, backward, ig / ((m + 2) * forward + m * backward), faith / forward,
            peak, reference, peak < 0 ? double.NaN : (double)peak / reference, naive / batched);
    }

    private static double Median(int repeats, Action run)
    {
        run(); // warm-up
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            run();
            times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>Peak RSS growth during <paramref name="run"/> via /proc (resets the high-water mark first); -1 elsewhere.</summary>
    private static long PeakExtraBytes(Action run)
    {
        const string status = "/proc/self/status", clear = "/proc/self/clear_refs";
        if (!File.Exists(status) || !File.Exists(clear)) { run(); return -1; }
        try
        {
            GC.Collect();
            File.WriteAllText(clear, "5"); // resets VmHWM to the current RSS
            long before = ReadKb(status, "VmRSS:");
            run();
            long peak = ReadKb(status, "VmHWM:");
            return Math.Max(0, peak - before) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    private static long ReadKb(string file, string key)
    {
        var line = File.ReadLines(file).First(l => l.StartsWith(key, StringComparison.Ordinal));
        return long.Parse(line[key.Length..].Trim().Split(' ')[0]);
    }
}
