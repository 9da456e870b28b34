using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>One residual block; sequential (GPT-2, Llama) or parallel attention + MLP (GPT-NeoX/Pythia).</summary>
public sealed class TransformerBlock : nn.Module
{
    private readonly ModelConfig _cfg;
    private readonly ModelOptions _options;

    public TransformerBlock(ModelConfig cfg, ModelOptions options, int layer) : base($"blocks.{layer}")
    {
        _cfg = cfg;
        _options = options;
        Layer = layer;
        ln1 = new Norm($"blocks.{layer}.ln1", cfg.Norm, cfg.DModel, cfg.NormEps, layer);
        ln2 = new Norm($"blocks.{layer}.ln2", cfg.Norm, cfg.DModel, cfg.NormEps, layer);
        attn = new Attention(cfg, options, layer);
        mlp = new Mlp(cfg, layer);
        register_module("ln1", ln1);
        register_module("attn", attn);
        register_module("ln2", ln2);
        register_module("mlp", mlp);
        string p = $"blocks.{layer}.";
        HookResidPre = new HookPoint(p + "hook_resid_pre", layer);
        HookResidMid = new HookPoint(p + "hook_resid_mid", layer);
        HookResidPost = new HookPoint(p + "hook_resid_post", layer);
        HookQInput = new HookPoint(p + "hook_q_input", layer);
        HookKInput = new HookPoint(p + "hook_k_input", layer);
        HookVInput = new HookPoint(p + "hook_v_input", layer);
        HookAttnIn = new HookPoint(p + "hook_attn_in", layer);
        HookAttnOut = new HookPoint(p + "hook_attn_out", layer);
        HookMlpIn = new HookPoint(p + "hook_mlp_in", layer);
        HookMlpOut = new HookPoint(p + "hook_mlp_out", layer);
    }

    public int Layer { get; }
    public Norm ln1 { get; }
    public Norm ln2 { get; }
    public Attention attn { get; }
    public Mlp mlp { get; }
    public HookPoint HookResidPre { get; }
    public HookPoint HookResidMid { get; }
    public HookPoint HookResidPost { get; }
    public HookPoint HookQInput { get; }
    public HookPoint HookKInput { get; }
    public HookPoint HookVInput { get; }
    public HookPoint HookAttnIn { get; }
    public HookPoint HookAttnOut { get; }
    public HookPoint HookMlpIn { get; }
    public HookPoint HookMlpOut { get; }

    public IEnumerable<HookPoint> HookPoints
    {
        get
        {
            yield return HookResidPre;
            if (_options.UseSplitQkvInput) { yield return HookQInput; yield return HookKInput; yield return HookVInput; }
            else yield return HookAttnIn;
            yield return ln1.HookScale;
            yield return ln1.HookNormalized;
            foreach (var h in attn.HookPoints)
                if (h != attn.HookResult || _options.UseAttnResult) yield return h;
            yield return HookAttnOut;
            if (!_cfg.ParallelAttnMlp) yield return HookResidMid;
            yield return HookMlpIn;
            yield return ln2.HookScale;
            yield return ln2.HookNormalized;
            foreach (var h in mlp.HookPoints) yield return h;
            yield return HookMlpOut;
            yield return HookResidPost;
        }
    }

    /// <summary>
    /// ln1 of a split input [b, p, n_heads, d]. When every head reads the same values (a stride-0 head axis: the
    /// untouched broadcast of resid_pre, or a hook's broadcast replacement) and ln1's hooks are idle, the norm runs
    /// once and is broadcast back, so split-input runs cost no more than plain ones where nothing differs per head.
    /// </summary>
    private Tensor NormPerHead(Tensor x)
    {
        if (ln1.HookScale.HookCount > 0 || ln1.HookNormalized.HookCount > 0) return ln1.Forward(x);
        if (x.stride(2) == 0) return ln1.Forward(x.select(2, 0)).unsqueeze(2).expand_as(x);
        // Head-major memory (a hook's per-head inputs laid out [n_heads, b, p, d]): normalise in that layout, which the
        // per-head projection also reads without a reordering copy.
        var headMajor = x.permute(2, 0, 1, 3);
        return headMajor.is_contiguous() ? ln1.Forward(headMajor).permute(1, 2, 0, 3) : ln1.Forward(x);
    }

    public Tensor Forward(Tensor x, Tensor? cos, Tensor? sin, Tensor masked)
    {
        var residPre = HookResidPre.Run(x);
        Tensor attnOut;
        if (_options.UseSplitQkvInput)
        {
            var perHead = residPre.unsqueeze(2).expand(-1, -1, _cfg.NHeads, -1);
            var q = NormPerHead(HookQInput.Run(perHead));
            var k = NormPerHead(HookKInput.Run(perHead));
            var v = NormPerHead(HookVInput.Run(perHead));
            attnOut = HookAttnOut.Run(attn.Forward(q, k, v, cos, sin, masked));
        }
        else
        {
            var normed = ln1.Forward(HookAttnIn.Run(residPre));
            attnOut = HookAttnOut.Run(attn.Forward(normed, normed, normed, cos, sin, masked));
        }

        if (_cfg.ParallelAttnMlp)
        {
            var mlpOut = HookMlpOut.Run(mlp.Forward(ln2.Forward(HookMlpIn.Run(residPre))));
            return HookResidPost.Run(residPre + attnOut + mlpOut);
        }
        var residMid = HookResidMid.Run(residPre + attnOut);
        var mlpOut2 = HookMlpOut.Run(mlp.Forward(ln2.Forward(HookMlpIn.Run(residMid))));
        return HookResidPost.Run(residMid + mlpOut2);
    }
}
