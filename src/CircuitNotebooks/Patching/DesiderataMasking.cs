using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CircuitNotebooks.Patching;

/// <summary>
/// A desideratum dataset: the model runs <see cref="Base"/>; a masked head's output at the group's position is taken
/// (partly) from <see cref="Source"/> at the same role's position in the source prompt; <c>Base.Labels</c> hold the
/// target, i.e. what the model should output if the masked heads encode the property. Rows pair up one to one.
/// </summary>
public sealed record DesiderataPair(PromptBatch Base, PromptBatch Source) : IDisposable
{
    public int Rows => Base.Rows;

    public DesiderataPair Slice(int start, int count) => new(Base.Slice(start, count), Source.Slice(start, count));

    public void Dispose()
    {
        Base.Dispose();
        Source.Dispose();
    }
}

public sealed record DcmOptions
{
    /// <summary>Weight of the sparsity term λ Σ(1 − m) (paper: 0.01).</summary>
    public double Lambda { get; init; } = 0.01;
    /// <summary>Adam learning rate (paper: 0.1).</summary>
    public double LearningRate { get; init; } = 0.1;
    public int Epochs { get; init; } = 2;
    public int BatchSize { get; init; } = 32;
    /// <summary>Evaluate the rounded mask on the eval pair every this many steps (and after the last); the best one is kept.</summary>
    public int EvalEvery { get; init; } = 4;
    public IProgress<DcmProgress>? Progress { get; init; }
    public CancellationToken Cancellation { get; init; }
}

public sealed record DcmProgress(int Step, double Loss, double TargetLogit, int Selected, double? EvalAccuracy);

/// <summary>
/// Result of DCM on one head group and one desideratum. <see cref="Mask"/> is the kept mask (per head of
/// <see cref="Heads"/>, 1 = own activation, 0 = source's); heads with round(m) = 0 are <see cref="Selected"/>.
/// <see cref="EvalAccuracy"/> is the target accuracy with the rounded mask on the eval pair (the model-selection
/// criterion), <see cref="Losses"/> the training loss per step.
/// </summary>
public sealed record DcmResult(IReadOnlyList<AttentionHead> Heads, string Position, double[] Mask, IReadOnlyList<AttentionHead> Selected,
    double EvalAccuracy, IReadOnlyList<double> Losses)
{
    public double FractionSelected => Heads.Count == 0 ? 0 : Selected.Count / (double)Heads.Count;
}

/// <summary>
/// Desiderata-based component masking (Davies et al.; Prakash et al. §4). A mask m ∈ [0, 1] per head of
/// a group mixes each head's output (hook_z) at the group's position: m · base + (1 − m) · source. Training minimises
/// −logit(target) + λ Σ(1 − m) with Adam, clamping m to [0, 1] every step; heads whose m rounds to 0 are the ones
/// that carry the property the desideratum tests. Model weights are frozen while the mask trains.
/// </summary>
public static class DesiderataMasking
{
    public static DcmResult Train(HookedTransformer model, IReadOnlyList<AttentionHead> heads, string position,
        DesiderataPair train, DesiderataPair eval, DcmOptions? options = null)
    {
        options ??= new DcmOptions();
        Validate(model, heads);
        if (options.BatchSize < 1 || options.Epochs < 1 || options.EvalEvery < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "BatchSize, Epochs and EvalEvery must be ≥ 1.");
        if (heads.Count == 0) return new DcmResult(heads, position, [], [], Accuracy(model, heads, position, [], eval), []);

        var frozen = model.parameters().Select(p => (p, p.requires_grad)).ToList();
        foreach (var (p, _) in frozen) p.requires_grad_(false);
        var mask = new Parameter(ones(heads.Count, dtype: ScalarType.Float32, device: model.Device));
        try
        {
            var adam = optim.Adam([mask], lr: options.LearningRate);
            var losses = new List<double>();
            double[] best = Rounded(mask);
            double bestAcc = Accuracy(model, heads, position, best, eval);
            int step = 0;
            for (int epoch = 0; epoch < options.Epochs; epoch++)
            for (int start = 0; start < train.Rows; start += options.BatchSize)
            {
                options.Cancellation.ThrowIfCancellationRequested();
                double loss, target;
                using (var scope = NewDisposeScope())
                {
                    using var part = train.Slice(start, options.BatchSize);
                    adam.zero_grad();
                    var logits = PatchedLogits(model, heads, position, mask, part);
                    var targetLogit = TargetLogits(logits, part.Base).mean();
                    var l = -targetLogit + options.Lambda * (1 - mask).sum();
                    l.backward();
                    adam.step();
                    using (no_grad()) mask.clamp_(0, 1);
                    loss = l.item<float>();
                    target = targetLogit.item<float>();
                }
                losses.Add(loss);
                step++;
                bool last = epoch == options.Epochs - 1 && start + options.BatchSize >= train.Rows;
                double? acc = null;
                if (step % options.EvalEvery == 0 || last)
                {
                    var rounded = Rounded(mask);
                    acc = Accuracy(model, heads, position, rounded, eval);
                    // Ties go to the smaller selection: the minimal explanation of the same behaviour.
                    if (acc > bestAcc || (acc == bestAcc && Zeros(rounded) < Zeros(best)))
                    {
                        bestAcc = acc.Value;
                        best = rounded;
                    }
                }
                options.Progress?.Report(new DcmProgress(step, loss, target, Zeros(Rounded(mask)), acc));
            }
            var selected = heads.Where((_, i) => best[i] == 0).ToList();
            return new DcmResult(heads, position, best, selected, bestAcc, losses);
        }
        finally
        {
            foreach (var (p, g) in frozen) p.requires_grad_(g);
            mask.Dispose();
        }
    }

    /// <summary>Target accuracy with a fixed mask (per head of <paramref name="heads"/>; 1 = base, 0 = source).</summary>
    public static double Accuracy(HookedTransformer model, IReadOnlyList<AttentionHead> heads, string position, double[] mask,
        DesiderataPair pair, int batchSize = 64)
    {
        Validate(model, heads);
        if (mask.Length != heads.Count) throw new ArgumentException($"Mask has {mask.Length} entries for {heads.Count} heads.", nameof(mask));
        using var _ = no_grad();
        double correct = 0;
        for (int start = 0; start < pair.Rows; start += batchSize)
        {
            using var scope = NewDisposeScope();
            using var part = pair.Slice(start, batchSize);
            var m = tensor(mask.Select(v => (float)v).ToArray(), device: model.Device);
            var logits = PatchedLogits(model, heads, position, m, part);
            correct += part.Base.AccuracyMetric().Evaluate(logits) * part.Rows;
        }
        return correct / pair.Rows;
    }

    /// <summary>
    /// Logits of the base prompts with each group head's output at the role's token replaced by
    /// m · base + (1 − m) · source (source read at the same role's token of the source prompt). Differentiable in m.
    /// </summary>
    public static Tensor PatchedLogits(HookedTransformer model, IReadOnlyList<AttentionHead> heads, string position, Tensor mask, DesiderataPair pair)
    {
        if (pair.Base.Rows != pair.Source.Rows)
            throw new ArgumentException($"Base has {pair.Base.Rows} rows, source {pair.Source.Rows}: desiderata pairs must match row for row.", nameof(pair));
        int H = model.Config.NHeads;
        var layers = heads.Select(h => h.Layer).Distinct().ToList();
        var names = layers.Select(l => $"blocks.{l}.attn.hook_z").ToHashSet();
        var srcPos = pair.Source.PositionsOf(position);
        Dictionary<string, Tensor> source;
        using (no_grad())
        {
            var (srcLogits, cache) = model.RunWithCache(pair.Source.Tokens, names.Contains, pair.Source.AttentionMask);
            srcLogits.Dispose();
            using (cache)
            {
                var idx = tensor(srcPos.Select(p => (long)p).ToArray(), dtype: ScalarType.Int64, device: model.Device);
                // z at each row's source position: [b, H, dh].
                source = names.ToDictionary(n => n, n =>
                {
                    var z = cache[n].to(model.Device);
                    return z.gather(1, idx.view(-1, 1, 1, 1).expand(-1, 1, z.shape[2], z.shape[3])).squeeze(1);
                });
            }
        }
        var onehot = pair.Base.OneHot(position, model.Device).to_type(model.DType).unsqueeze(-1).unsqueeze(-1); // [b, p, 1, 1]
        var hooks = new List<(string, HookFunction)>();
        foreach (var l in layers)
        {
            string name = $"blocks.{l}.attn.hook_z";
            // Per-head mix for this layer, [H]: the mask entry for group heads, 1 (keep) for the rest.
            var entries = Enumerable.Range(0, H).Select(h =>
            {
                int i = IndexOf(heads, l, h);
                return i >= 0 ? mask[i] : ones(1, dtype: mask.dtype, device: mask.device).squeeze(0);
            }).ToList();
            var layerMask = stack(entries).to_type(model.DType);
            hooks.Add((name, (act, hook) =>
            {
                var w = onehot * (1 - layerMask).view(1, 1, H, 1); // share taken from the source
                return act * (1 - w) + w * source[name].unsqueeze(1);
            }));
        }
        return model.RunWithHooks(pair.Base.Tokens, hooks, pair.Base.AttentionMask);
    }

    private static int IndexOf(IReadOnlyList<AttentionHead> heads, int layer, int head)
    {
        for (int i = 0; i < heads.Count; i++)
            if (heads[i].Layer == layer && heads[i].Head == head) return i;
        return -1;
    }

    private static Tensor TargetLogits(Tensor logits, PromptBatch batch)
    {
        var answer = Metric.AnswerLogits(logits, batch.AttentionMask);
        var idx = tensor(batch.Labels, dtype: ScalarType.Int64, device: answer.device).unsqueeze(1);
        return answer.gather(1, idx).squeeze(1);
    }

    private static double[] Rounded(Tensor mask)
    {
        using var _ = no_grad();
        return mask.detach().clamp(0, 1).round().to(CPU).to_type(ScalarType.Float64).data<double>().ToArray();
    }

    private static int Zeros(double[] m) => m.Count(v => v == 0);

    private static void Validate(HookedTransformer model, IReadOnlyList<AttentionHead> heads)
    {
        foreach (var h in heads)
            if (h.Layer < 0 || h.Layer >= model.Config.NLayers || h.Head < 0 || h.Head >= model.Config.NHeads)
                throw new ArgumentOutOfRangeException(nameof(heads), $"Head {h} is outside the model ({model.Config.NLayers} layers × {model.Config.NHeads} heads).");
        if (heads.Distinct().Count() != heads.Count) throw new ArgumentException("Heads must be distinct.", nameof(heads));
    }
}
