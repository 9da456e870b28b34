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
            x = x - x.mean([-1], keepdim: true);
            scale = HookScale.Run((x.pow(2).mean([-1], keepdim: true) + _eps).sqrt());
            return HookNormalized.Run(x / scale * w + b!);
        }
        scale = HookScale.Run((x.pow(2).mean([-1], keepdim: true) + _eps).sqrt());
        return HookNormalized.Run(x / scale * w);
    }
}
