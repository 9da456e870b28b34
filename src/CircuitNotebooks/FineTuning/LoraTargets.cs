using CircuitNotebooks.Models;

namespace CircuitNotebooks.FineTuning;

/// <summary>
/// Names of the per-layer linear maps LoRA can adapt, in TransformerLens terms, and their (d_in, d_out) as one
/// linear each (heads merged: W_Q is d_model → n_heads·d_head). <see cref="Qkv"/> is the fused query/key/value map
/// of HF GPT-NeoX (<c>query_key_value</c>), which the paper's Pythia LoRA adapts as ONE linear: its LoRA has
/// r(d_model + (n_heads + 2 n_kv)·d_head) parameters, fewer than three separate adapters.
/// </summary>
public static class LoraTargets
{
    public const string Q = "attn.W_Q";
    public const string K = "attn.W_K";
    public const string V = "attn.W_V";
    public const string Qkv = "attn.W_QKV";
    public const string O = "attn.W_O";
    public const string In = "mlp.W_in";
    public const string Gate = "mlp.W_gate";
    public const string Out = "mlp.W_out";

    /// <summary>Every linear but embeddings/unembedding, attention as separate Q, K, V (gate only for gated MLPs).</summary>
    public static IReadOnlyList<string> AllSeparate(ModelConfig cfg) =>
        cfg.GatedMlp ? [Q, K, V, O, In, Gate, Out] : [Q, K, V, O, In, Out];

    /// <summary>The paper's Pythia set: query_key_value, dense, dense_h_to_4h, dense_4h_to_h.</summary>
    public static IReadOnlyList<string> GptNeoXFused => [Qkv, O, In, Out];

    public static (int In, int Out) Shape(ModelConfig cfg, string target)
    {
        int q = cfg.NHeads * cfg.DHead, kv = cfg.KvHeads * cfg.DHead;
        return target switch
        {
            Q => (cfg.DModel, q),
            K or V => (cfg.DModel, kv),
            Qkv => (cfg.DModel, q + 2 * kv),
            O => (q, cfg.DModel),
            In => (cfg.DModel, cfg.DMlp),
            Gate => cfg.GatedMlp ? (cfg.DModel, cfg.DMlp)
                : throw new ArgumentException($"LoRA target '{Gate}' needs a gated MLP; model {cfg.Fingerprint} has none.", nameof(target)),
            Out => (cfg.DMlp, cfg.DModel),
            _ => throw new ArgumentException($"unknown LoRA target '{target}'; expected one of {Q}, {K}, {V}, {Qkv}, {O}, {In}, {Gate}, {Out}.", nameof(target)),
        };
    }

    /// <summary>LoRA parameters of one layer: Σ over targets of r·(d_in + d_out) (A is r×d_in, B is d_out×r).</summary>
    public static long LayerParameters(ModelConfig cfg, IReadOnlyList<string> targets, int rank)
    {
        if (targets.Distinct().Count() != targets.Count) throw new ArgumentException($"LoRA targets repeat: {string.Join(", ", targets)}.", nameof(targets));
        if (targets.Contains(Qkv) && targets.Any(t => t is Q or K or V))
            throw new ArgumentException($"LoRA targets list both the fused '{Qkv}' and separate Q/K/V maps.", nameof(targets));
        return targets.Sum(t => { var (i, o) = Shape(cfg, t); return (long)rank * (i + o); });
    }
}
