using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;

namespace CircuitNotebooks.Tasks;

/// <summary>
/// Prakash et al.'s entity-tracking circuit, found backwards from the logits by path patching:
/// A value fetchers (last token, direct to the logits), B position transmitters (last token, into A's queries),
/// C position detectors (query label, into B's values), D structure readers (the query label's earlier occurrence,
/// into C's values).
/// </summary>
public static class EntityTrackingCircuit
{
    public const string A = "A", B = "B", C = "C", D = "D";

    public static IReadOnlyDictionary<string, string> Roles { get; } = new Dictionary<string, string>
    {
        [A] = "value fetcher", [B] = "position transmitter", [C] = "position detector", [D] = "structure reader",
    };

    /// <summary>The four steps, each with its own selection (paper, Llama-7B: top 20 / 5 / 10 / 5 before pruning).</summary>
    public static IReadOnlyList<GroupStep> Steps(HeadSelection a, HeadSelection b, HeadSelection c, HeadSelection d) =>
    [
        new GroupStep(A, PromptBatch.Last, ReceiverInput.Logits, a),
        new GroupStep(B, PromptBatch.Last, ReceiverInput.Q, b),
        new GroupStep(C, EntityTrackingBatches.QueryLabel, ReceiverInput.V, c),
        new GroupStep(D, EntityTrackingBatches.PrevQueryLabel, ReceiverInput.V, d),
    ];

    public static IReadOnlyList<GroupStep> Steps(HeadSelection all) => Steps(all, all, all, all);

    /// <summary>Groups A–D on aligned clean / counterfactual batches (see <see cref="EntityTrackingBatches.Pair"/>).</summary>
    public static IReadOnlyList<HeadGroup> Discover(HookedTransformer model, PromptBatch clean, PromptBatch counterfactual,
        IReadOnlyList<GroupStep> steps, PathPatchingOptions? options = null, IProgress<HeadGroup>? progress = null) =>
        HeadGroupDiscovery.Backwards(model, clean, counterfactual.Tokens, steps, options, progress);

    /// <summary>The circuit as head sites: each group's heads at its position.</summary>
    public static IReadOnlyList<HeadSite> Sites(IEnumerable<HeadGroup> groups) => groups.SelectMany(g => g.Sites).Distinct().ToList();
}
