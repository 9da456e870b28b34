using CircuitNotebooks.Models;
using static TorchSharp.torch;

namespace CircuitNotebooks.Patching;

/// <summary>Receivers of a head-level path-patching sweep: the given heads' q, k or v input, or the logits.</summary>
public sealed record HeadReceivers(IReadOnlyList<AttentionHead> Heads, ReceiverInput Input)
{
    public static HeadReceivers Logits { get; } = new([], ReceiverInput.Logits);

    /// <summary>The layer below which a sender can reach a receiver; every layer for the logits.</summary>
    internal int ReachLayer(int nLayers) => Input == ReceiverInput.Logits ? nLayers : Heads.Count == 0 ? 0 : Heads.Max(h => h.Layer);
}

/// <summary>
/// Head-level path patching with Prakash et al.'s score: for each sender head, patched at the token of
/// a position role from the counterfactual run, with receivers' inputs read at that same token (the logits at the
/// answer token), score = mean over rows of (p_patched(label) − p_clean(label)) / p_clean(label). Built on
/// <see cref="PathPatching"/>: rows whose role sits at the same index share its forwards, and the per-index means are
/// combined weighted by row count, which is exactly the mean over rows.
/// </summary>
public static class HeadPathPatching
{
    /// <summary>
    /// [n_layers, n_heads] scores; NaN for heads at or above the highest receiver layer, which cannot reach any
    /// receiver (their patch changes nothing).
    /// </summary>
    /// <param name="clean">Clean prompts, labels and position roles.</param>
    /// <param name="counterfactualTokens">Aligned counterfactual prompts [b, p] (same padding as <paramref name="clean"/>).</param>
    /// <param name="position">Role of the token where senders are patched and receivers read.</param>
    public static double[,] Scores(HookedTransformer model, PromptBatch clean, Tensor counterfactualTokens, string position,
        HeadReceivers receivers, PathPatchingOptions? options = null)
    {
        int L = model.Config.NLayers, H = model.Config.NHeads;
        int reach = Validate(model, clean, counterfactualTokens, receivers);
        var candidates = new List<AttentionHead>();
        for (int l = 0; l < reach; l++)
        for (int h = 0; h < H; h++) candidates.Add(new AttentionHead(l, h));
        var values = RunSets(model, clean, counterfactualTokens, position, receivers,
            candidates.Select(c => (IReadOnlyList<AttentionHead>)[c]).ToList(), options);
        var grid = new double[L, H];
        for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++) grid[l, h] = double.NaN;
        for (int i = 0; i < candidates.Count; i++) grid[candidates[i].Layer, candidates[i].Head] = values[i];
        return grid;
    }

    /// <summary>The score of patching a set of sender heads together (each at the role's token).</summary>
    public static double Score(HookedTransformer model, PromptBatch clean, Tensor counterfactualTokens, string position,
        IReadOnlyList<AttentionHead> senders, HeadReceivers receivers, PathPatchingOptions? options = null)
    {
        Validate(model, clean, counterfactualTokens, receivers);
        foreach (var s in senders)
            if (s.Layer < 0 || s.Layer >= model.Config.NLayers || s.Head < 0 || s.Head >= model.Config.NHeads)
                throw new ArgumentOutOfRangeException(nameof(senders), $"Sender {s} is outside the model.");
        return RunSets(model, clean, counterfactualTokens, position, receivers, [senders], options)[0];
    }

    private static int Validate(HookedTransformer model, PromptBatch clean, Tensor counterfactualTokens, HeadReceivers receivers)
    {
        int L = model.Config.NLayers, H = model.Config.NHeads;
        if (!counterfactualTokens.shape.SequenceEqual(clean.Tokens.shape))
            throw new ArgumentException($"Counterfactual tokens [{string.Join(", ", counterfactualTokens.shape)}] do not match the clean " +
                                        $"batch [{clean.Rows}, {clean.Length}]: path patching needs aligned prompts.", nameof(counterfactualTokens));
        foreach (var h in receivers.Heads)
            if (h.Layer < 0 || h.Layer >= L || h.Head < 0 || h.Head >= H)
                throw new ArgumentOutOfRangeException(nameof(receivers), $"Receiver {h} is outside the model ({L} layers × {H} heads).");
        if (receivers.Input != ReceiverInput.Logits && receivers.Heads.Count == 0)
            throw new ArgumentException("No receiver heads.", nameof(receivers));
        return receivers.ReachLayer(L);
    }

    /// <summary>Mean score per sender set: rows grouped by the role's index, group means weighted by row count.</summary>
    private static double[] RunSets(HookedTransformer model, PromptBatch clean, Tensor counterfactualTokens, string position,
        HeadReceivers receivers, IReadOnlyList<IReadOnlyList<AttentionHead>> sets, PathPatchingOptions? options)
    {
        var pos = clean.PositionsOf(position);
        var sums = new double[sets.Count];
        if (sets.Count == 0) return sums;
        Tensor cleanLogits;
        using (no_grad())
            cleanLogits = model.Forward(clean.Tokens, clean.AttentionMask).DetachFromDisposeScope();
        using (cleanLogits)
        {
            foreach (var group in Enumerable.Range(0, clean.Rows).GroupBy(r => pos[r]))
            {
                options?.Cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var rows = group.ToArray();
                using var sub = clean.Select(rows);
                var idx = tensor(rows.Select(r => (long)r).ToArray(), dtype: ScalarType.Int64);
                var cf = counterfactualTokens.index_select(0, idx.to(counterfactualTokens.device));
                var metric = Metric.RelativeProbabilityChange(sub.Labels, cleanLogits.index_select(0, idx.to(cleanLogits.device)), sub.AttentionMask);
                int p = group.Key;
                var senderSets = sets.Select(set => (IReadOnlyList<Sender>)set.Select(c => new Sender(c.Layer, c.Head, p)).ToList()).ToList();
                IReadOnlyList<Receiver> recv = receivers.Input == ReceiverInput.Logits
                    ? [Receiver.Logits()]
                    : receivers.Heads.Select(h => new Receiver(h.Layer, h.Head, receivers.Input, p)).ToList();
                var values = PathPatching.RunMany(model, sub.Tokens, cf, senderSets, recv, metric, sub.AttentionMask, options);
                for (int i = 0; i < values.Length; i++) sums[i] += values[i] * rows.Length;
            }
        }
        return sums.Select(v => v / clean.Rows).ToArray();
    }
}
