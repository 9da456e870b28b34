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
    /// <summary>EAP-IG over activations: each source group's output interpolated in turn ((2L + 1)·m forwards and backwards).</summary>
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
                AttributionMethod.EapIgActivations => IgActivationsInEdgeMode(model, g, batch, options.Steps, options.Cancellation),
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

    /// <summary>Per-example scores [b, F, B] from (corrupt − clean) sources and averaged destination gradients.</summary>
    private static Tensor Contract(Tensor diffs, Tensor grads)
    {
        long b = diffs.shape[0], p = diffs.shape[1], F = diffs.shape[2], d = diffs.shape[3], B = grads.shape[2];
        var left = diffs.permute(0, 2, 1, 3).reshape(b, F, p * d);
        var right = grads.permute(0, 1, 3, 2).reshape(b, p * d, B);
        return left.bmm(right);
    }

    /// <summary>
    /// EAP-IG over inputs with plain forwards (<see cref="PlainEdgeRun"/>). The clean step (α = 1) runs first so its
    /// source outputs give the differences every later step contracts with; Σ_k is taken on scores, not gradients
    /// (the contraction is linear), so nothing of size n_bwd × tokens × d_model is kept.
    /// </summary>
    private static Tensor IgInputs(HookedTransformer model, EdgeLayout g, AttributionBatch batch, int steps, CancellationToken ct)
    {
        var (_, diffs, _) = PlainEdgeRun.CaptureSources(model, g, batch.Corrupted, batch.AttentionMask);
        var acc = zeros([batch.Rows, g.NBackward, g.NForward], dtype: diffs.dtype, device: diffs.device);
        Tensor cleanInput, delta;
        using (no_grad())
        {
            cleanInput = model.ForwardResidual(batch.Clean, batch.AttentionMask, 0);
            delta = cleanInput - diffs.select(1, 0); // clean − corrupt embeddings [b, p, d]
        }
        // Clean step first: it turns the corrupted sources into corrupt − clean in place.
        PlainEdgeRun.AccumulateScores(model, g, batch.Clean, batch.AttentionMask, batch.Metric, null, diffs, subtractOwnSources: true, acc);
        for (int k = 1; k < steps; k++)
        {
            ct.ThrowIfCancellationRequested();
            double alpha = (double)k / steps;
            Tensor input;
            using (no_grad()) input = cleanInput - (1 - alpha) * delta;
            PlainEdgeRun.AccumulateScores(model, g, batch.Clean, batch.AttentionMask, batch.Metric, input, diffs, subtractOwnSources: false, acc);
        }
        return acc.div_(steps).transpose(1, 2); // [b, F, B]
    }

    private static Tensor IgActivationsInEdgeMode(HookedTransformer model, EdgeLayout g, AttributionBatch batch, int steps, CancellationToken ct)
    {
        using var edgeMode = AnalysisMode.Edge(model);
        return IgActivations(model, g, batch, steps, ct);
    }

    private static Tensor IgActivations(HookedTransformer model, EdgeLayout g, AttributionBatch batch, int steps, CancellationToken ct)
    {
        var (_, corrupt) = EdgeForward.CaptureSources(model, g, batch.Corrupted, batch.AttentionMask);
        var (_, clean) = EdgeForward.CaptureSources(model, g, batch.Clean, batch.AttentionMask);
        var diffs = corrupt - clean;
        var rows = new List<Tensor>();
        for (int group = 0; group < EdgeForward.GroupCount(g); group++)
        {
            var (start, width) = EdgeForward.GroupRange(g, group);
            var groupDiff = diffs.narrow(2, start, width); // clean − (1 − α)·(clean − corrupt) = clean + (1 − α)·diff
            Tensor? gradSum = null;
            for (int k = 1; k <= steps; k++)
            {
                ct.ThrowIfCancellationRequested();
                double alpha = (double)k / steps;
                int target = group;
                Func<int, Tensor, Tensor?> replace = (gr, act) =>
                    gr != target || k == steps ? null : act + (1 - alpha) * (act.dim() == 3 ? groupDiff.squeeze(2) : groupDiff);
                var (grads, _, _) = EdgeForward.GradientRun(model, g, batch.Clean, batch.AttentionMask, batch.Metric, replace, false);
                gradSum = gradSum is null ? grads : gradSum + grads;
            }
            rows.Add(Contract(groupDiff, gradSum! / steps));
        }
        return cat(rows, 1);
    }
}
