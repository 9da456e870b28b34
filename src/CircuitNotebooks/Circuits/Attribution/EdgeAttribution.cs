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
    /// <summary>
    /// EAP-IG over activations as in the EAP-IG library: each source group's output (the input, a layer's heads, an
    /// MLP) is interpolated in turn and every run's gradients score every edge; the sum is divided by (2L + 1)·m
    /// (1 + (2L + 1)(m − 1) forwards and backwards: the clean step is shared).
    /// </summary>
    EapIgActivations,
    /// <summary>
    /// Our per-group variant of <see cref="EapIgActivations"/>: a group's interpolated runs score only that group's
    /// edges, divided by m — each edge gets the integrated gradient along its own source's path. Same cost.
    /// </summary>
    EapIgActivationsPerGroup,
}

public sealed record AttributionOptions
{
    public AttributionMethod Method { get; init; } = AttributionMethod.EapIgInputs;
    /// <summary>Interpolation steps m (paper: 5). Ignored by <see cref="AttributionMethod.Eap"/>.</summary>
    public int Steps { get; init; } = 5;
    /// <summary>Keep every example's scores (memory: examples × n_fwd × n_bwd floats).</summary>
    public bool PerExample { get; init; }
    /// <summary>
    /// Most tokens (rows × positions) one scoring pass runs; a larger batch is scored a few rows at a time, which
    /// gives the same scores (they are per-example sums) with the peak memory of the smaller pass: the
    /// corrupt − clean buffer (n_fwd × d_model per token) and one forward + backward of those rows. At least one row
    /// per pass; null = the whole batch in one pass.
    /// </summary>
    public int? MaxTokensPerPass { get; init; }
    /// <summary>Reports the number of examples done.</summary>
    public IProgress<int>? Progress { get; init; }
    public CancellationToken Cancellation { get; init; }
}

/// <summary>
/// Edge attribution scores (Hanna et al. 2024, EAP-IG): S(u→v) = Σ_pos (a_u(corrupt) − a_u(clean)) · mean_k ∂M/∂input_v at step k,
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
        var g = CircuitGraph.FromConfig(model.Config);
        var real = g.RealEdgeMask();
        int F = g.ForwardCount, B = g.BackwardCount;
        var total = new double[F * B];
        var perExample = options.PerExample ? new List<float[]>() : null;
        int examples = 0;
        using var realMask = tensor(real.Select(x => x ? 1f : 0f).ToArray(), [F, B]).DetachFromDisposeScope();
        if (options.MaxTokensPerPass is < 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"MaxTokensPerPass must be ≥ 1, got {options.MaxTokensPerPass}.");
        foreach (var whole in batches)
        foreach (var batch in Passes(model, whole, options.MaxTokensPerPass))
        {
            options.Cancellation.ThrowIfCancellationRequested();
            EdgeForward.Validate(model, batch);
            using var scope = NewDisposeScope();
            var scores = options.Method switch
            {
                AttributionMethod.Eap => IgInputs(model, g, batch, 1, options.Cancellation),
                AttributionMethod.EapIgInputs => IgInputs(model, g, batch, options.Steps, options.Cancellation),
                AttributionMethod.EapIgActivations => IgActivations(model, g, batch, options.Steps, perGroup: false, options.Cancellation),
                AttributionMethod.EapIgActivationsPerGroup => IgActivations(model, g, batch, options.Steps, perGroup: true, options.Cancellation),
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
        return new EdgeScores(g, mean, examples, perExample?.SelectMany(x => x).ToArray());
    }

    /// <summary>The batch in row chunks of at most <paramref name="maxTokens"/> tokens (at least one row each).</summary>
    private static IEnumerable<AttributionBatch> Passes(HookedTransformer model, AttributionBatch batch, int? maxTokens)
    {
        EdgeForward.Validate(model, batch); // the whole batch: a metric of the wrong size must fail before slicing
        int rows = maxTokens is { } t ? Math.Max(1, t / (int)batch.Clean.shape[1]) : batch.Rows;
        for (int start = 0; start < batch.Rows; start += rows)
            yield return batch.Slice(start, Math.Min(rows, batch.Rows - start));
    }

    /// <summary>
    /// EAP-IG over inputs with plain forwards (<see cref="PlainEdgeRun"/>). The clean step (α = 1) runs first so its
    /// source outputs give the differences every later step contracts with; Σ_k is taken on scores, not gradients
    /// (the contraction is linear), so nothing of size n_bwd × tokens × d_model is kept.
    /// </summary>
    private static Tensor IgInputs(HookedTransformer model, CircuitGraph g, AttributionBatch batch, int steps, CancellationToken ct)
    {
        var (diffs, acc) = CleanStep(model, g, batch);
        using var shift = empty_like(diffs[0]); // one buffer for every step: a fresh one per step fragments the heap
        for (int k = 1; k < steps; k++)
        {
            ct.ThrowIfCancellationRequested();
            double alpha = (double)k / steps;
            using (no_grad()) shift.copy_(diffs[0]).mul_(1 - alpha); // input = clean + (1 − α)(corrupt − clean)
            PlainEdgeRun.AccumulateScores(model, g, batch.Clean, batch.AttentionMask, batch.Metric,
                new("blocks.0.hook_resid_pre", shift), diffs, subtractOwnSources: false, acc);
        }
        return acc.div_(steps).transpose(1, 2); // [b, F, B]
    }

    /// <summary>
    /// EAP-IG over activations: each source group (the input, a layer's heads, an MLP) is interpolated in turn,
    /// a_u = clean + (1 − α)(corrupt − clean). Moving a layer's heads together shifts its attention output by
    /// (1 − α) Σ_h (corrupt_h − clean_h), which is where the shift is added. Step α = 1 is the clean run for every
    /// group, so it runs once and counts once per group. The library's algorithm lets every run score every edge and
    /// divides by (2L + 1)·m; <paramref name="perGroup"/> gives a group's runs only to its own edges and divides by m.
    /// </summary>
    private static Tensor IgActivations(HookedTransformer model, CircuitGraph g, AttributionBatch batch, int steps, bool perGroup, CancellationToken ct)
    {
        var (diffs, acc) = CleanStep(model, g, batch);
        var groups = new List<(string Hook, int Start, int Width)> { ("blocks.0.hook_resid_pre", 0, 1) };
        for (int l = 0; l < g.NLayers; l++)
        {
            groups.Add(($"blocks.{l}.hook_attn_out", g.HeadIndex(l, 0), g.NHeads));
            groups.Add(($"blocks.{l}.hook_mlp_out", g.MlpIndex(l), 1));
        }
        if (!perGroup) acc.mul_(groups.Count); // the shared clean step, once per group
        using var groupDiff = empty_like(diffs[0]);
        using var shift = empty_like(groupDiff);
        foreach (var (hook, start, width) in groups)
        {
            using (no_grad())
            {
                groupDiff.copy_(diffs[start]); // Σ over the group, [b, p, d]
                for (int u = start + 1; u < start + width; u++) groupDiff.add_(diffs[u]);
            }
            for (int k = 1; k < steps; k++)
            {
                ct.ThrowIfCancellationRequested();
                double alpha = (double)k / steps;
                using (no_grad()) shift.copy_(groupDiff).mul_(1 - alpha);
                PlainEdgeRun.AccumulateScores(model, g, batch.Clean, batch.AttentionMask, batch.Metric, new(hook, shift), diffs,
                    subtractOwnSources: false, acc, perGroup ? (start, width) : null);
            }
        }
        return acc.div_(perGroup ? steps : steps * groups.Count).transpose(1, 2); // [b, F, B]
    }

    /// <summary>
    /// The corrupted sources, then the clean run's scores into a fresh accumulator [b, n_bwd, n_fwd]; the clean run
    /// turns the sources into the differences corrupt − clean [n_fwd, b, p, d] in place. That buffer is the one
    /// activation-sized tensor scoring keeps; everything else lives for one layer or one run.
    /// </summary>
    private static (Tensor Diffs, Tensor Acc) CleanStep(HookedTransformer model, CircuitGraph g, AttributionBatch batch)
    {
        var (logits, diffs, _) = PlainEdgeRun.CaptureSources(model, g, batch.Corrupted, batch.AttentionMask, batch.Metric, withResiduals: false);
        logits.Dispose();
        var acc = zeros([batch.Rows, g.BackwardCount, g.ForwardCount], dtype: diffs.dtype, device: diffs.device);
        PlainEdgeRun.AccumulateScores(model, g, batch.Clean, batch.AttentionMask, batch.Metric, null, diffs, subtractOwnSources: true, acc);
        return (diffs, acc);
    }
}
