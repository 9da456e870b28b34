using CircuitNotebooks.Models;
using static TorchSharp.torch;

namespace CircuitNotebooks.Patching;

/// <summary>
/// Which heads of a path-patching score grid join a group. Scores are relative changes of p(label), so important heads
/// are the most negative ones (Prakash et al. take the k smallest). Heads with NaN scores (unable to reach the
/// receivers) never join. Both limits may be combined: the heads with score ≤ <see cref="Threshold"/>, at most
/// <see cref="TopK"/> of them, most negative first.
/// </summary>
public sealed record HeadSelection(int? TopK = null, double? Threshold = null)
{
    public static HeadSelection Top(int k) => new(TopK: k);
    /// <summary>Heads whose patch lowers p(label) by at least <paramref name="relativeDrop"/> (e.g. 0.05 = 5 %).</summary>
    public static HeadSelection DropAtLeast(double relativeDrop) => new(Threshold: -Math.Abs(relativeDrop));

    public IReadOnlyList<AttentionHead> Select(double[,] scores)
    {
        if (TopK is < 0) throw new ArgumentOutOfRangeException(nameof(TopK), $"TopK must be ≥ 0 (got {TopK}).");
        var all = new List<(AttentionHead Head, double Score)>();
        for (int l = 0; l < scores.GetLength(0); l++)
        for (int h = 0; h < scores.GetLength(1); h++)
            if (!double.IsNaN(scores[l, h]) && (Threshold is not double t || scores[l, h] <= t))
                all.Add((new AttentionHead(l, h), scores[l, h]));
        var ordered = all.OrderBy(x => x.Score).ThenBy(x => x.Head.Layer).ThenBy(x => x.Head.Head).Select(x => x.Head);
        return (TopK is int k ? ordered.Take(k) : ordered).ToList();
    }
}

/// <summary>
/// One step of a backwards search: senders sit at <see cref="Position"/>; receivers are the previous step's heads'
/// <see cref="Composition"/> input (q for Q-composition, v for V-composition) read at that same token, or the logits
/// for the first step (its Composition is ignored).
/// </summary>
public sealed record GroupStep(string Name, string Position, ReceiverInput Composition, HeadSelection Selection);

/// <summary>A group of heads found by path patching, with its score grid (NaN where a head cannot reach the receivers).</summary>
public sealed record HeadGroup(string Name, string Position, IReadOnlyList<AttentionHead> Heads, double[,] Scores)
{
    /// <summary>The group's heads at its position, for circuit evaluation and patching.</summary>
    public IReadOnlyList<HeadSite> Sites => Heads.Select(h => new HeadSite(h.Layer, h.Head, Position)).ToList();

    public override string ToString() => $"{Name} @{Position}: {string.Join(", ", Heads)}";
}

/// <summary>
/// Circuit discovery backwards from the logits (Prakash et al.'s procedure): step 1 scores every head at
/// its position against the logits; each later step scores every head against the previous group's inputs.
/// </summary>
public static class HeadGroupDiscovery
{
    public static IReadOnlyList<HeadGroup> Backwards(HookedTransformer model, PromptBatch clean, Tensor counterfactualTokens,
        IReadOnlyList<GroupStep> steps, PathPatchingOptions? options = null, IProgress<HeadGroup>? progress = null)
    {
        if (steps.Count == 0) throw new ArgumentException("No steps.", nameof(steps));
        var groups = new List<HeadGroup>();
        HeadGroup? previous = null;
        foreach (var step in steps)
        {
            var receivers = previous is null ? HeadReceivers.Logits : new HeadReceivers(previous.Heads, step.Composition);
            if (previous is not null && step.Composition == ReceiverInput.Logits)
                throw new ArgumentException($"Step '{step.Name}': only the first step reads the logits.", nameof(steps));
            double[,] scores;
            if (previous is not null && previous.Heads.Count == 0)
            {
                // Nothing to receive: every score is undefined and the group is empty.
                scores = new double[model.Config.NLayers, model.Config.NHeads];
                for (int l = 0; l < scores.GetLength(0); l++)
                for (int h = 0; h < scores.GetLength(1); h++) scores[l, h] = double.NaN;
            }
            else scores = HeadPathPatching.Scores(model, clean, counterfactualTokens, step.Position, receivers, options);
            var group = new HeadGroup(step.Name, step.Position, step.Selection.Select(scores), scores);
            groups.Add(group);
            progress?.Report(group);
            previous = group;
        }
        return groups;
    }
}
