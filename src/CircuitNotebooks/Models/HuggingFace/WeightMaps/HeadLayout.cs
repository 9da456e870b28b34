using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>
/// Reshapes between fused "in → out" projection matrices and TransformerLens' per-head tensors. All HF layouts keep
/// each head's d_head outputs contiguous, head after head.
/// </summary>
internal static class HeadLayout
{
    /// <summary>[d_model, heads*d_head] (in → out) → [heads, d_model, d_head].</summary>
    public static Tensor SplitIn(Tensor inOut, long heads) =>
        inOut.reshape(inOut.shape[0], heads, -1).permute(1, 0, 2).contiguous();

    /// <summary>[heads, d_model, d_head] → [d_model, heads*d_head] (in → out).</summary>
    public static Tensor MergeIn(Tensor perHead) =>
        perHead.permute(1, 0, 2).reshape(perHead.shape[1], -1).contiguous();

    /// <summary>[heads*d_head, d_model] (in → out) → [heads, d_head, d_model].</summary>
    public static Tensor SplitOut(Tensor inOut, long heads) => inOut.reshape(heads, -1, inOut.shape[1]).contiguous();

    /// <summary>[heads, d_head, d_model] → [heads*d_head, d_model].</summary>
    public static Tensor MergeOut(Tensor perHead) => perHead.reshape(-1, perHead.shape[2]).contiguous();

    /// <summary>A Linear weight [out, in] as an in → out matrix, or back.</summary>
    public static Tensor T(Tensor w) => w.t().contiguous();

    /// <summary>A new handle on the same storage, so input and output dictionaries can be disposed independently.</summary>
    public static Tensor Share(Tensor t) => t.alias();
}
