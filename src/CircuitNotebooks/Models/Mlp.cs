using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>Feed-forward block: act(x W_in + b_in) W_out + b_out, or the gated form act(x W_gate) ⊙ (x W_in).</summary>
public sealed class Mlp : nn.Module
{
    private readonly ModelConfig _cfg;

    public Mlp(ModelConfig cfg, int layer) : base($"blocks.{layer}.mlp")
    {
        _cfg = cfg;
        W_in = Param("W_in", zeros(cfg.DModel, cfg.DMlp));
        if (cfg.GatedMlp) W_gate = Param("W_gate", zeros(cfg.DModel, cfg.DMlp));
        W_out = Param("W_out", zeros(cfg.DMlp, cfg.DModel));
        if (cfg.MlpBias)
        {
            b_in = Param("b_in", zeros(cfg.DMlp));
            b_out = Param("b_out", zeros(cfg.DModel));
        }
        string p = $"blocks.{layer}.mlp.";
        HookPre = new HookPoint(p + "hook_pre", layer);
        HookPreLinear = new HookPoint(p + "hook_pre_linear", layer);
        HookPost = new HookPoint(p + "hook_post", layer);
    }

    public Parameter W_in { get; private set; }
    public Parameter? W_gate { get; private set; }
    public Parameter W_out { get; private set; }
    public Parameter? b_in { get; private set; }
    public Parameter? b_out { get; private set; }
    public HookPoint HookPre { get; }
    /// <summary>Gated MLPs only: x W_in, the linear factor (TransformerLens' hook_pre_linear).</summary>
    public HookPoint HookPreLinear { get; }
    public HookPoint HookPost { get; }

    /// <summary>LoRA-style additions keyed by weight name ("W_in", "W_gate", "W_out").</summary>
    public Dictionary<string, ILinearAdapter> Adapters { get; } = new();

    public IEnumerable<HookPoint> HookPoints => _cfg.GatedMlp ? [HookPre, HookPreLinear, HookPost] : [HookPre, HookPost];

    private Parameter Param(string name, Tensor init)
    {
        var p = new Parameter(init);
        register_parameter(name, p);
        return p;
    }

    private Tensor Linear(Tensor x, Parameter w, Parameter? bias, string name)
    {
        var y = x.matmul(w);
        if (Adapters.TryGetValue(name, out var ad)) y = y + ad.Apply(x);
        return bias is null ? y : y + bias;
    }

    public Tensor Forward(Tensor x)
    {
        Tensor post;
        if (_cfg.GatedMlp)
        {
            var pre = HookPre.Run(Linear(x, W_gate!, null, "W_gate"));
            var lin = HookPreLinear.Run(Linear(x, W_in, b_in, "W_in"));
            post = HookPost.Run(Activate(pre, _cfg.Act) * lin);
        }
        else
        {
            var pre = HookPre.Run(Linear(x, W_in, b_in, "W_in"));
            post = HookPost.Run(Activate(pre, _cfg.Act));
        }
        return Linear(post, W_out, b_out, "W_out");
    }

    public static Tensor Activate(Tensor x, Activation act) => act switch
    {
        Activation.GeluNew => 0.5 * x * (1.0 + tanh(Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x.pow(3)))),
        Activation.Gelu => nn.functional.gelu(x),
        Activation.Relu => nn.functional.relu(x),
        Activation.Silu => nn.functional.silu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(act), act, "unknown activation"),
    };
}
