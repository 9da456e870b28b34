using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>
/// TransformerLens-style weight processing. Each transform keeps the model's output distribution: folding and
/// centring change no logit (up to float rounding); centring the unembedding adds the same constant to every
/// logit of a position (softmax unchanged). Off by default: the seed papers' circuits ran on unprocessed weights.
/// </summary>
public static class WeightProcessing
{
    /// <summary>
    /// Moves each norm's weight (and bias) into the linear maps that read it, leaving norms at w = 1, b = 0.
    /// For LayerNorm the reading weights are also centred along d_model, since the normalised input has zero mean.
    /// </summary>
    public static void FoldLayerNorm(HookedTransformer model)
    {
        using var _ = no_grad();
        bool center = model.Config.Norm == NormKind.LayerNorm;
        foreach (var blk in model.Blocks)
        {
            var a = blk.attn;
            FoldHeads(blk.ln1, a.W_Q, a.b_Q, center);
            FoldHeads(blk.ln1, a.W_K, a.b_K, center);
            FoldHeads(blk.ln1, a.W_V, a.b_V, center);
            if (a.b_Q is null && blk.ln1.b is not null) throw UnsupportedBias("attention");
            var m = blk.mlp;
            if (m.W_gate is not null) FoldMatrix(blk.ln2, m.W_gate, null, center);
            FoldMatrix(blk.ln2, m.W_in, m.b_in, center);
            Reset(blk.ln1);
            Reset(blk.ln2);
        }
        FoldMatrix(model.ln_final, model.unembed_W_U, model.unembed_b_U, center);
        Reset(model.ln_final);
    }

    /// <summary>
    /// Removes the mean (along d_model) of everything written to the residual stream. Every reader is a LayerNorm,
    /// which subtracts the mean anyway, so nothing downstream changes. Not valid for RMSNorm models.
    /// </summary>
    public static void CenterWritingWeights(HookedTransformer model)
    {
        if (model.Config.Norm != NormKind.LayerNorm)
            throw new InvalidOperationException("Centring writing weights is only output-preserving for LayerNorm models.");
        using var _ = no_grad();
        CenterLast(model.embed_W_E);
        if (model.pos_embed_W_pos is not null) CenterLast(model.pos_embed_W_pos);
        foreach (var blk in model.Blocks)
        {
            CenterLast(blk.attn.W_O);
            if (blk.attn.b_O is not null) CenterLast(blk.attn.b_O);
            CenterLast(blk.mlp.W_out);
            if (blk.mlp.b_out is not null) CenterLast(blk.mlp.b_out);
        }
    }

    /// <summary>Subtracts the mean over the vocabulary from W_U and b_U: each position's logits shift by one constant.</summary>
    public static void CenterUnembed(HookedTransformer model)
    {
        using var _ = no_grad();
        CenterLast(model.unembed_W_U);
        CenterLast(model.unembed_b_U);
    }

    private static void CenterLast(Tensor t) => t.sub_(t.mean([-1], keepdim: true));

    private static Exception UnsupportedBias(string where) =>
        new InvalidOperationException($"Cannot fold a LayerNorm bias into {where} weights that have no bias.");

    /// <summary>W [heads, d_model, d_head] reading norm output n = x̂·w + b.</summary>
    private static void FoldHeads(Norm ln, Tensor w, Tensor? bias, bool center)
    {
        if (ln.b is not null && bias is not null)
            bias.add_(einsum("d,hde->he", ln.b, w));
        w.mul_(ln.w.reshape(1, -1, 1));
        if (center) w.sub_(w.mean([1], keepdim: true));
    }

    /// <summary>W [d_model, d_out] reading norm output.</summary>
    private static void FoldMatrix(Norm ln, Tensor w, Tensor? bias, bool center)
    {
        if (ln.b is not null)
        {
            if (bias is null) throw UnsupportedBias("MLP/unembed");
            bias.add_(ln.b.matmul(w));
        }
        w.mul_(ln.w.reshape(-1, 1));
        if (center) w.sub_(w.mean([0], keepdim: true));
    }

    private static void Reset(Norm ln)
    {
        ln.w.fill_(1.0);
        ln.b?.zero_();
    }
}
