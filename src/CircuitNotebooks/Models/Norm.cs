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
    /// ∂L/∂x of this norm at input <paramref name="x"/> [.., d] for the output gradient <paramref name="grad"/> (any
    /// shape broadcasting against x, e.g. [3·n_heads, b, p, d] against [1, b, p, d]), written into
    /// <paramref name="grad"/> and returned. Closed form, with ĝ = w ⊙ grad and x̂ the normalised input:
    /// (ĝ − mean ĝ − x̂ · mean(ĝ x̂)) / σ for LayerNorm, (ĝ − x̂ · mean(ĝ x̂)) / σ for RMSNorm. Lets edge attribution
    /// get every head's input gradient from one shared forward instead of running the norm once per head; in place
    /// because these tensors are the largest of that computation.
    /// </summary>
    internal Tensor InputGradientInPlace(Tensor x, Tensor grad)
    {
        using var _ = no_grad();
        var centred = _kind == NormKind.LayerNorm ? x - x.mean([-1], keepdim: true) : x;
        var inv = (centred.pow(2).mean([-1], keepdim: true) + _eps).rsqrt();
        var xhat = centred * inv;
        grad.mul_(w);
        var dot = (grad * xhat).mean([-1], keepdim: true);
        if (_kind == NormKind.LayerNorm) grad.sub_(grad.mean([-1], keepdim: true));
        grad.addcmul_(xhat, dot, -1);
        return grad.mul_(inv);
    }
}
