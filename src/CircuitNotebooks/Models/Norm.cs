using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>LayerNorm (weight + bias, biased variance) or RMSNorm (weight only), over the last dimension.</summary>
public sealed class Norm : nn.Module
{
    private readonly NormKind _kind;
    private readonly double _eps;

    public Norm(string name, NormKind kind, int dModel, double eps, int layer) : base(name)
    {
        _kind = kind;
        _eps = eps;
        w = new Parameter(ones(dModel));
        register_parameter("w", w);
        if (kind == NormKind.LayerNorm)
        {
            b = new Parameter(zeros(dModel));
            register_parameter("b", b);
        }
        HookScale = new HookPoint($"{name}.hook_scale", layer);
        HookNormalized = new HookPoint($"{name}.hook_normalized", layer);
    }

    public Parameter w { get; private set; }
    public Parameter? b { get; private set; }
    public HookPoint HookScale { get; }
    public HookPoint HookNormalized { get; }

    public Tensor Forward(Tensor x)
    {
        Tensor scale;
        if (_kind == NormKind.LayerNorm)
        {
            // libtorch's fused kernel is several times faster than the op-by-op form, which matters for the
            // [b, p, n_heads, d] split inputs of edge-level work. The op-by-op form is used only when a hook on
            // hook_scale changes its value, so hooking (caching, identity hooks, patching from the model's own
            // cache) leaves the logits bit-identical to an unhooked run.
            if (HookScale.HookCount == 0)
                return HookNormalized.Run(nn.functional.layer_norm(x, [x.shape[^1]], w, b, _eps));
            var centred = x - x.mean([-1], keepdim: true);
            var own = (centred.pow(2).mean([-1], keepdim: true) + _eps).sqrt();
            scale = HookScale.Run(own);
            if (ReferenceEquals(scale, own) || scale.eq(own).all().item<bool>())
                return HookNormalized.Run(nn.functional.layer_norm(x, [x.shape[^1]], w, b, _eps));
            return HookNormalized.Run(centred / scale * w + b!);
        }
        scale = HookScale.Run((x.pow(2).mean([-1], keepdim: true) + _eps).sqrt());
        return HookNormalized.Run(x / scale * w);
    }

    /// <summary>
    /// ∂L/∂x of this norm at input <paramref name="x"/> [.., d] for the output gradient <paramref name="gradOut"/>
    /// (any shape broadcasting against x, e.g. [n_heads, b, p, d] against [b, p, d]), in closed form:
    /// with ĝ = w ⊙ gradOut and x̂ the normalised input, (ĝ − mean ĝ − x̂ · mean(ĝ x̂)) / σ for LayerNorm and
    /// (ĝ − x̂ · mean(ĝ x̂)) / σ for RMSNorm. Lets edge attribution get per-head input gradients from one shared
    /// forward instead of running the norm once per head.
    /// </summary>
    internal Tensor InputGradient(Tensor x, Tensor gradOut)
    {
        using var _ = no_grad();
        var centred = _kind == NormKind.LayerNorm ? x - x.mean([-1], keepdim: true) : x;
        var inv = (centred.pow(2).mean([-1], keepdim: true) + _eps).rsqrt();
        var xhat = centred * inv;
        var g = gradOut * w;
        var dot = (g * xhat).mean([-1], keepdim: true);
        var inner = _kind == NormKind.LayerNorm ? g - g.mean([-1], keepdim: true) - xhat * dot : g - xhat * dot;
        return inner * inv;
    }
}
