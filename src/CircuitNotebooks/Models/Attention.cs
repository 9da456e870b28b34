using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>
/// Multi-head attention with TransformerLens-shaped weights (W_Q [h, d_model, d_head], W_O [h, d_head, d_model]).
/// Grouped-query attention shares each key/value head among n_heads / n_kv_heads query heads.
/// </summary>
public sealed class Attention : nn.Module
{
    private readonly ModelConfig _cfg;
    private readonly ModelOptions _options;
    private readonly Rotary? _rotary;

    public Attention(ModelConfig cfg, ModelOptions options, int layer) : base($"blocks.{layer}.attn")
    {
        _cfg = cfg;
        _options = options;
        Layer = layer;
        int h = cfg.NHeads, kv = cfg.KvHeads, d = cfg.DModel, dh = cfg.DHead;
        W_Q = Param("W_Q", zeros(h, d, dh));
        W_K = Param("W_K", zeros(kv, d, dh));
        W_V = Param("W_V", zeros(kv, d, dh));
        W_O = Param("W_O", zeros(h, dh, d));
        if (cfg.AttnBias)
        {
            b_Q = Param("b_Q", zeros(h, dh));
            b_K = Param("b_K", zeros(kv, dh));
            b_V = Param("b_V", zeros(kv, dh));
            if (cfg.AttnOutBias) b_O = Param("b_O", zeros(d));
        }
        if (cfg.Rotary) _rotary = new Rotary(cfg.RotaryDim, cfg.RotaryBase);
        string p = $"blocks.{layer}.attn.";
        HookQ = new HookPoint(p + "hook_q", layer);
        HookK = new HookPoint(p + "hook_k", layer);
        HookV = new HookPoint(p + "hook_v", layer);
        HookRotQ = new HookPoint(p + "hook_rot_q", layer);
        HookRotK = new HookPoint(p + "hook_rot_k", layer);
        HookAttnScores = new HookPoint(p + "hook_attn_scores", layer);
        HookPattern = new HookPoint(p + "hook_pattern", layer);
        HookZ = new HookPoint(p + "hook_z", layer);
        HookResult = new HookPoint(p + "hook_result", layer);
    }

    public int Layer { get; }
    public Parameter W_Q { get; private set; }
    public Parameter W_K { get; private set; }
    public Parameter W_V { get; private set; }
    public Parameter W_O { get; private set; }
    public Parameter? b_Q { get; private set; }
    public Parameter? b_K { get; private set; }
    public Parameter? b_V { get; private set; }
    public Parameter? b_O { get; private set; }
    public HookPoint HookQ { get; }
    public HookPoint HookK { get; }
    public HookPoint HookV { get; }
    public HookPoint HookRotQ { get; }
    public HookPoint HookRotK { get; }
    public HookPoint HookAttnScores { get; }
    public HookPoint HookPattern { get; }
    public HookPoint HookZ { get; }
    public HookPoint HookResult { get; }

    /// <summary>LoRA-style additions keyed by weight name ("W_Q", "W_K", "W_V", "W_O").</summary>
    public Dictionary<string, ILinearAdapter> Adapters { get; } = new();

    public IEnumerable<HookPoint> HookPoints =>
        [HookQ, HookK, HookV, HookRotQ, HookRotK, HookAttnScores, HookPattern, HookZ, HookResult];

    private Parameter Param(string name, Tensor init)
    {
        var p = new Parameter(init);
        register_parameter(name, p);
        return p;
    }

    /// <summary>
    /// qIn/kIn/vIn: normalised inputs, [b, p, d] or, with split inputs, [b, p, n_heads, d].
    /// masked: bool [b, 1, q, k], true where attention is not allowed.
    /// </summary>
    public Tensor Forward(Tensor qIn, Tensor kIn, Tensor vIn, Tensor? cos, Tensor? sin, Tensor masked)
    {
        int h = _cfg.NHeads, dh = _cfg.DHead;
        bool split = qIn.dim() == 4;
        var q = HookQ.Run(Project(qIn, W_Q, b_Q, "W_Q", split));
        var k = HookK.Run(Project(kIn, W_K, b_K, "W_K", split));
        var v = HookV.Run(Project(vIn, W_V, b_V, "W_V", split));
        if (_rotary != null)
        {
            q = HookRotQ.Run(_rotary.Apply(q, cos!, sin!));
            k = HookRotK.Run(_rotary.Apply(k, cos!, sin!));
        }
        int group = h / (int)k.shape[2];
        if (group > 1)
        {
            k = k.repeat_interleave(group, dim: 2);
            v = v.repeat_interleave(group, dim: 2);
        }
        var scores = q.permute(0, 2, 1, 3).matmul(k.permute(0, 2, 3, 1)) / Math.Sqrt(dh); // [b, h, q, k]
        scores = HookAttnScores.Run(scores.masked_fill(masked, MaskValue(scores.dtype)));
        var pattern = scores.dtype is ScalarType.Float16 or ScalarType.BFloat16
            ? scores.to_type(ScalarType.Float32).softmax(-1).to_type(scores.dtype)
            : scores.softmax(-1);
        pattern = HookPattern.Run(pattern);
        var z = HookZ.Run(pattern.matmul(v.permute(0, 2, 1, 3)).permute(0, 2, 1, 3)); // [b, p, h, dh]
        long b = z.shape[0], p = z.shape[1];

        Tensor output;
        if (_options.UseAttnResult)
        {
            var result = HookResult.Run(HeadOutputs(z));
            output = result.sum(2);
        }
        else
        {
            var flat = z.reshape(b, p, h * dh);
            bool fold = _options.FoldAdapters && Adapters.ContainsKey("W_O");
            output = flat.matmul((fold ? EffectiveWeight(W_O, "W_O") : W_O).reshape(h * dh, _cfg.DModel));
            if (!fold && Adapters.TryGetValue("W_O", out var ad)) output = output + ad.Apply(flat);
        }
        return b_O is null ? output : output + b_O;
    }

    /// <summary>Rotary cos/sin for position ids [b, p]; null pair when the model uses learned positions.</summary>
    public (Tensor Cos, Tensor Sin) RotaryAngles(Tensor positions, ScalarType dtype) =>
        _rotary?.Angles(positions, dtype) ?? throw new InvalidOperationException("Model has no rotary embedding.");

    internal static Scalar MaskValue(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => -65504.0f,
        ScalarType.BFloat16 => -3.38e38f,
        ScalarType.Float64 => double.MinValue,
        _ => float.MinValue,
    };

    /// <summary>x [b,p,d] → [b,p,heads,dh]; split x [b,p,n_heads,d] → [b,p,n_heads,dh] (kv weights expanded per query head).</summary>
    private Tensor Project(Tensor x, Parameter w, Parameter? bias, string name, bool split)
    {
        long heads = w.shape[0], d = w.shape[1], dh = w.shape[2];
        if (!split)
        {
            bool fold = _options.FoldAdapters && Adapters.ContainsKey(name);
            var y = x.matmul((fold ? EffectiveWeight(w, name) : w).permute(1, 0, 2).reshape(d, heads * dh));
            if (!fold && Adapters.TryGetValue(name, out var ad)) y = y + ad.Apply(x);
            if (bias is not null) y = y + bias.reshape(heads * dh);
            y = y.reshape(x.shape[0], x.shape[1], heads, dh);
            return _options.ExpandKvHeads && heads < _cfg.NHeads ? y.repeat_interleave(_cfg.NHeads / heads, dim: 2) : y;
        }
        var weff = EffectiveWeight(w, name); // [heads, d, dh]
        var beff = bias as Tensor;
        int group = _cfg.NHeads / (int)heads;
        if (group > 1)
        {
            weff = weff.repeat_interleave(group, dim: 0);
            beff = beff?.repeat_interleave(group, dim: 0);
        }
        // Every head reads the same input (stride-0 head axis): one dense matmul instead of a per-head einsum.
        var ys = x.stride(2) == 0
            ? x.select(2, 0).matmul(weff.permute(1, 0, 2).reshape(d, -1)).reshape(x.shape[0], x.shape[1], weff.shape[0], dh)
            : einsum("bphd,hde->bphe", x, weff);
        return beff is null ? ys : ys + beff;
    }

    /// <summary>
    /// The effective q (0), k (1) or v (2) projection [n_heads, d_model, d_head] (adapters folded in, key/value heads
    /// repeated per query head): what maps a head's normalised input to its hook_q/hook_k/hook_v slice.
    /// </summary>
    internal Tensor InputWeight(int kind)
    {
        var (w, name) = kind switch { 0 => (W_Q, "W_Q"), 1 => (W_K, "W_K"), 2 => (W_V, "W_V"), _ => throw new ArgumentOutOfRangeException(nameof(kind)) };
        var weff = EffectiveWeight(w, name);
        int group = _cfg.NHeads / (int)w.shape[0];
        return group > 1 ? weff.repeat_interleave(group, dim: 0) : weff;
    }

    /// <summary>
    /// Per-head outputs z_h · W_O[h] [b, p, count, d_model] of heads firstHead .. firstHead + count − 1 (all by
    /// default), b_O excluded — what <c>hook_result</c> holds. W_O is the effective one: a LoRA adapter's delta is
    /// folded in, so on a fine-tuned model these sum to the attention output the model actually computed.
    /// </summary>
    /// <param name="z">hook_z activations [b, p, n_heads, d_head].</param>
    public Tensor HeadOutputs(Tensor z, int firstHead = 0, int count = -1)
    {
        if (z.dim() != 4 || z.shape[2] != _cfg.NHeads || z.shape[3] != _cfg.DHead)
            throw new ArgumentException($"{HookZ.Name}: expected z of shape [b, p, {_cfg.NHeads}, {_cfg.DHead}], got [{string.Join(", ", z.shape)}].", nameof(z));
        if (count < 0) count = _cfg.NHeads - firstHead;
        if (firstHead < 0 || count < 0 || firstHead + count > _cfg.NHeads)
            throw new ArgumentOutOfRangeException(nameof(count), $"heads {firstHead}..{firstHead + count - 1} outside 0..{_cfg.NHeads - 1}.");
        var wO = EffectiveWeight(W_O, "W_O").narrow(0, firstHead, count);
        return einsum("bphe,hem->bphm", z.narrow(2, firstHead, count), wO);
    }

    /// <summary>The weight in its TransformerLens layout with any adapter's dense delta folded in.</summary>
    private Tensor EffectiveWeight(Parameter w, string name)
    {
        if (!Adapters.TryGetValue(name, out var ad)) return w;
        var delta = ad.DeltaWeight(); // [d_in, d_out]
        return name == "W_O"
            ? w + delta.reshape(w.shape[0], w.shape[1], w.shape[2])
            : w + delta.reshape(w.shape[1], w.shape[0], w.shape[2]).permute(1, 0, 2);
    }
}
