using CircuitNotebooks.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CircuitNotebooks.FineTuning;

/// <summary>
/// One adaptable linear map of a block ("attn.W_Q", …, "mlp.W_out") seen through the flattened layout of
/// <see cref="ILinearAdapter"/>: input [.., d_in], output [.., d_out] (attention heads head-major).
/// </summary>
public sealed class LinearModule
{
    private LinearModule(int layer, string module, Parameter weight, IDictionary<string, ILinearAdapter> adapters, int dIn, int dOut)
    {
        Layer = layer;
        Module = module;
        Weight = weight;
        AdapterSlot = adapters;
        DIn = dIn;
        DOut = dOut;
    }

    public int Layer { get; }
    /// <summary>Short name, "attn.W_Q" … "mlp.W_gate".</summary>
    public string Module { get; }
    /// <summary>TransformerLens name, "blocks.{l}.attn.W_Q".</summary>
    public string Name => $"blocks.{Layer}.{Module}";
    /// <summary>Key in the block's adapter dictionary ("W_Q", "W_in", …).</summary>
    public string Key => Module[(Module.IndexOf('.') + 1)..];
    public Parameter Weight { get; }
    public int DIn { get; }
    public int DOut { get; }
    internal IDictionary<string, ILinearAdapter> AdapterSlot { get; }

    /// <summary>Every linear map of every block in a fixed order (layer, then Q K V O in gate out).</summary>
    public static IReadOnlyList<LinearModule> All(HookedTransformer model)
    {
        var cfg = model.Config;
        int q = cfg.NHeads * cfg.DHead, kv = cfg.KvHeads * cfg.DHead, d = cfg.DModel;
        var list = new List<LinearModule>();
        foreach (var b in model.Blocks)
        {
            var a = b.attn.Adapters;
            var m = b.mlp.Adapters;
            list.Add(new(b.Layer, "attn.W_Q", b.attn.W_Q, a, d, q));
            list.Add(new(b.Layer, "attn.W_K", b.attn.W_K, a, d, kv));
            list.Add(new(b.Layer, "attn.W_V", b.attn.W_V, a, d, kv));
            list.Add(new(b.Layer, "attn.W_O", b.attn.W_O, a, q, d));
            list.Add(new(b.Layer, "mlp.W_in", b.mlp.W_in, m, d, cfg.DMlp));
            if (b.mlp.W_gate is not null) list.Add(new(b.Layer, "mlp.W_gate", b.mlp.W_gate, m, d, cfg.DMlp));
            list.Add(new(b.Layer, "mlp.W_out", b.mlp.W_out, m, cfg.DMlp, d));
        }
        return list;
    }

    /// <summary>A flattened [d_in, d_out] change in the TransformerLens layout of <see cref="Weight"/>.</summary>
    public Tensor ToWeightLayout(Tensor delta)
    {
        if (delta.shape[0] != DIn || delta.shape[1] != DOut)
            throw new ArgumentException($"{Name}: delta has shape [{string.Join(", ", delta.shape)}], expected [{DIn}, {DOut}].");
        var w = Weight.shape;
        return Key switch
        {
            // W_Q/K/V are [heads, d_model, d_head]; the flattened output is head-major.
            "W_Q" or "W_K" or "W_V" => delta.reshape(w[1], w[0], w[2]).permute(1, 0, 2),
            // W_O is [heads, d_head, d_model]; the flattened input is head-major.
            "W_O" => delta.reshape(w[0], w[1], w[2]),
            _ => delta,
        };
    }
}
