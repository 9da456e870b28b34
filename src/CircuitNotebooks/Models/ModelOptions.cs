namespace CircuitNotebooks.Models;

/// <summary>
/// Opt-in analysis modes (TransformerLens' use_attn_result / use_split_qkv_input). They cost memory and time, so
/// they are off unless a user asks for those hooks; edge-level code (attribution, faithfulness) sets what it needs for
/// the length of its own forwards (split inputs for edge-patched forwards only) and restores the user's choice.
/// </summary>
public sealed class ModelOptions
{
    /// <summary>Compute per-head outputs <c>attn.hook_result</c> [b, p, h, d_model].</summary>
    public bool UseAttnResult { get; set; }
    /// <summary>Give each head its own copy of its q/k/v input (<c>hook_q_input</c> etc.) [b, p, h, d_model].</summary>
    public bool UseSplitQkvInput { get; set; }
    /// <summary>
    /// Grouped-query attention only: repeat k and v per query head before <c>hook_k</c>/<c>hook_v</c>, so those hooks
    /// (and gradients taken there) are per query head [b, p, n_heads, d_head]. Set by edge attribution.
    /// </summary>
    internal bool ExpandKvHeads { get; set; }
    /// <summary>
    /// Attention projections use the weight with any adapter's dense delta folded in (no adapter dropout), the form
    /// edge attribution rebuilds per-head gradients from. Set by edge attribution.
    /// </summary>
    internal bool FoldAdapters { get; set; }
}
