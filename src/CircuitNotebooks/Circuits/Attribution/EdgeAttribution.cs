using CircuitNotebooks.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Circuits.Attribution;

public enum AttributionMethod
{
    /// <summary>Edge attribution patching: gradient at the clean input (2 forwards + 1 backward).</summary>
    Eap,
    /// <summary>EAP-IG over inputs: gradients averaged along the embedding path corrupted → clean (m + 1 forwards, m backwards).</summary>
    EapIgInputs,
    /// <summary>EAP-IG over activations: each source group's output interpolated in turn (1 + (2L + 1)(m − 1) forwards and backwards).</summary>
    EapIgActivations,
}

public sealed record AttributionOptions
{
    public AttributionMethod Method { get; init; } = AttributionMethod.EapIgInputs;
    /// <summary>Interpolation steps m (paper: 5). Ignored by <see cref="AttributionMethod.Eap"/>.</summary>
    public int Steps { get; init; } = 5;
    /// <summary>Keep every example's scores (memory: examples × n_fwd × n_bwd floats).</summary>
    public bool PerExample { get; init; }
    /// <summary>Reports the number of examples done.</summary>
    public IProgress<int>? Progress { get; init; }
    public CancellationToken Cancellation { get; init; }
}

/// <summary>
/// Edge attribution scores (science.md §1): S(u→v) = Σ_pos (a_u(corrupt) − a_u(clean)) · mean_k ∂M/∂input_v at step k,
/// averaged over examples. All destination gradients come from one backward per step, and each step's scores are
/// batched matmuls of those gradients with the source differences, masked to the real edges.
/// Interpolation steps are k = 1..m with α_k = k/m (input = clean − (1 − α)(clean − corrupt)): step m is the
/// clean run itself, so m = 1 is exactly EAP and the clean source activations come from that step for free.
/// Cost (EAP and EAP-IG over inputs): one forward of the corrupted prompts plus m forward/backward pairs of the model
/// as it normally runs; no split q/k/v inputs are needed (see <see cref="PlainEdgeRun"/>). `circuitnb bench` reports
/// the measured ratio to (m + 2) plain forwards + m backwards.
/// </summary>
public static class EdgeAttribution
{
    public static EdgeScores Compute(HookedTransformer model, AttributionBatch batch, AttributionOptions? options = null) =>
        Compute(model, [batch], options);

    /// <summary>Scores averaged over every example of every mini-batch.</summary>
    public static EdgeScores Compute(HookedTransformer model, IEnumerable<AttributionBatch> batches, AttributionOptions? options = null)
    {
        options ??= new AttributionOptions();
        if (options.Steps < 1) throw new ArgumentOutOfRangeException(nameof(options), $"Steps must be ≥ 1, got {options.Steps}.");
        var g = new EdgeLayout(model.Config);
        var real = g.RealEdges();
        int F = g.NForward, B = g.NBackward;
        var total = new double[F * B];
        var perExample = options.PerExample ? new List<float[]>() : null;
        int examples = 0;
        using var realMask = tensor(real.Select(x => x ? 1f : 0f).ToArray(), [F, B]).DetachFromDisposeScope();
        foreach (var batch in batches)
        {
            options.Cancellation.ThrowIfCancellationRequested();
            EdgeForward.Validate(model, batch);
            using var scope = NewDisposeScope();
            var scores = options.Method switch
            {
                AttributionMethod.Eap => IgInputs(model, g, batch, 1, options.Cancellation),
                AttributionMethod.EapIgInputs => IgInputs(model, g, batch, options.Steps, options.Cancellation),
                AttributionMethod.EapIgActivations => IgActivations(model, g, batch, options.Steps, options.Cancellation),
                _ => throw new ArgumentOutOfRangeException(nameof(options), options.Method, "unknown method"),
            }; // [b, F, B]
            scores = (scores.to(ScalarType.Float32, CPU) * realMask.unsqueeze(0)).contiguous();
            var sum = scores.to_type(ScalarType.Float64).sum(0L, false).data<double>().ToArray();
            for (int i = 0; i < sum.Length; i++) total[i] += sum[i];
            if (perExample is not null)
                for (int r = 0; r < scores.shape[0]; r++) perExample.Add(scores[r].reshape(-1).data<float>().ToArray());
            examples += batch.Rows;
            options.Progress?.Report(examples);
        }
        if (examples == 0) throw new ArgumentException("No examples: the batch list is empty.", nameof(batches));
        var mean = total.Select(x => (float)(x / examples)).ToArray();
        return new EdgeScores(g, mean, real, examples, perExample?.SelectMany(x => x).ToArray());
    }

    /// <summary>
    /// EAP-IG over inputs with plain forwards (<see cref="PlainEdgeRun"/>). The clean step (α = 1) runs first so its
    /// source outputs give the differences every later step contracts with; Σ_k is taken on scores, not gradients
    /// (the contraction is linear), so nothing of size n_bwd × tokens × d_model is kept.
    /// </summary>
    private static Tensor IgInputs(HookedTransformer model, EdgeLayout g, AttributionBatch batch, int steps, CancellationToken ct)
    {
        var (diffs, acc) = CleanStep(model, g, batch);
        for (int k = 1; k < steps; k++)
        {
            ct.ThrowIfCancellationRequested();
            double alpha = (double)k / steps;
            Tensor shift;
            using (no_grad()) shift = (1 - alpha) * diffs.select(1, 0); // input = clean + (1 − α)(corrupt − clean)
            PlainEdgeRun.AccumulateScores(model, g, batch.Clean, batch.AttentionMask, batch.Metric,
                new("blocks.0.hook_resid_pre", shift), diffs, subtractOwnSources: false, acc);
        }
        return acc.div_(steps).transpose(1, 2); // [b, F, B]
    }

    /// <summary>
    /// EAP-IG over activations: each source group (the input, a layer's heads, an MLP) is interpolated in turn,
    /// a_u = clean + (1 − α)(corrupt − clean), and only that group's edges take the resulting gradients. Moving a layer's
    /// heads together shifts its attention output by (1 − α) Σ_h (corrupt_h − clean_h), which is where the shift is
    /// added. Step α = 1 is the clean run for every group, so it runs once: 1 + (2L + 1)(m − 1) forward/backward pairs.
    /// </summary>
    private static Tensor IgActivations(HookedTransformer model, EdgeLayout g, AttributionBatch batch, int steps, CancellationToken ct)
    {
        var (diffs, acc) = CleanStep(model, g, batch);
        var groups = new List<(string Hook, int Start, int Width)> { ("blocks.0.hook_resid_pre", 0, 1) };
        for (int l = 0; l < g.NLayers; l++)
        {
            groups.Add(($"blocks.{l}.hook_attn_out", g.HeadIndex(l, 0), g.NHeads));
            groups.Add(($"blocks.{l}.hook_mlp_out", g.MlpIndex(l), 1));
        }
        foreach (var (hook, start, width) in groups)
        {
            Tensor groupDiff;
            using (no_grad()) groupDiff = diffs.narrow(1, start, width).sum(1); // Σ over the group, [b, p, d]
            for (int k = 1; k < steps; k++)
            {
                ct.ThrowIfCancellationRequested();
                double alpha = (double)k / steps;
                Tensor shift;
                using (no_grad()) shift = (1 - alpha) * groupDiff;
                PlainEdgeRun.AccumulateScores(model, g, batch.Clean, batch.AttentionMask, batch.Metric, new(hook, shift), diffs,
                    subtractOwnSources: false, acc, (start, width));
            }
        }
        return acc.div_(steps).transpose(1, 2); // [b, F, B]
    }

    /// <summary>
    /// The corrupted sources, then the clean run's scores into a fresh accumulator [b, n_bwd, n_fwd]; the clean run
    /// turns the sources into the differences corrupt − clean [b, n_fwd, p, d] in place.
    /// </summary>
    private static (Tensor Diffs, Tensor Acc) CleanStep(HookedTransformer model, EdgeLayout g, AttributionBatch batch)
    {
        var (_, diffs, _) = PlainEdgeRun.CaptureSources(model, g, batch.Corrupted, batch.AttentionMask);
        var acc = zeros([batch.Rows, g.NBackward, g.NForward], dtype: diffs.dtype, device: diffs.device);
        PlainEdgeRun.AccumulateScores(model, g, batch.Clean, batch.AttentionMask, batch.Metric, null, diffs, subtractOwnSources: true, acc);
        return (diffs, acc);
    }
}
