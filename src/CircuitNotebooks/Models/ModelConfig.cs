using System.Text.Json.Serialization;

namespace CircuitNotebooks.Models;

/// <summary>Architecture families the engine implements with one model class and per-family parts.</summary>
[JsonConverter(typeof(JsonStringEnumConverter))]
public enum Architecture { Gpt2, GptNeoX, Llama }

[JsonConverter(typeof(JsonStringEnumConverter))]
public enum NormKind { LayerNorm, RmsNorm }

[JsonConverter(typeof(JsonStringEnumConverter))]
public enum Activation { GeluNew, Gelu, Relu, Silu }

/// <summary>
/// Everything that fixes a model's shapes and computation. Names follow TransformerLens' HookedTransformerConfig
/// (n_layers, d_model, ...) in C# casing. Immutable: a model never changes shape after construction.
/// </summary>
public sealed record ModelConfig
{
    public required Architecture Architecture { get; init; }
    public required int NLayers { get; init; }
    public required int DModel { get; init; }
    public required int NHeads { get; init; }
    /// <summary>Key/value heads; equals <see cref="NHeads"/> except for grouped-query attention.</summary>
    public int NKeyValueHeads { get; init; }
    public required int DMlp { get; init; }
    public required int DVocab { get; init; }
    public int NCtx { get; init; } = 2048;
    public int DHead => DModel / NHeads;

    public NormKind Norm { get; init; } = NormKind.LayerNorm;
    public double NormEps { get; init; } = 1e-5;
    public Activation Act { get; init; } = Activation.GeluNew;
    /// <summary>Learned absolute position embeddings (GPT-2) vs rotary (NeoX, Llama).</summary>
    public bool Rotary { get; init; }
    /// <summary>Number of leading dims of each head that rotary applies to (NeoX rotary_pct × d_head).</summary>
    public int RotaryDim { get; init; }
    public double RotaryBase { get; init; } = 10000;
    /// <summary>Attention and MLP both read resid_pre and add to it (GPT-NeoX/Pythia "use_parallel_residual").</summary>
    public bool ParallelAttnMlp { get; init; }
    /// <summary>SwiGLU-style MLP with a gate projection (Llama).</summary>
    public bool GatedMlp { get; init; }
    public bool AttnBias { get; init; } = true;
    /// <summary>With <see cref="AttnBias"/>: whether the output projection has one too (false for Qwen2: q/k/v biases only).</summary>
    public bool AttnOutBias { get; init; } = true;
    /// <summary>Mistral-style sliding-window attention span; sequences longer than it are refused (not implemented).</summary>
    public int? SlidingWindow { get; init; }
    public bool MlpBias { get; init; } = true;
    public bool TiedEmbeddings { get; init; }

    public int KvHeads => NKeyValueHeads > 0 ? NKeyValueHeads : NHeads;

    /// <summary>Throws with the offending field named if the shapes cannot form a model.</summary>
    public ModelConfig Validate(string source = "config")
    {
        void Req(bool ok, string field, string why) { if (!ok) throw new InvalidDataException($"{source}: field '{field}' {why}."); }
        Req(NLayers > 0, "n_layers", $"must be positive (got {NLayers})");
        Req(DModel > 0, "d_model", $"must be positive (got {DModel})");
        Req(NHeads > 0 && DModel % NHeads == 0, "n_heads", $"must divide d_model {DModel} (got {NHeads})");
        Req(KvHeads > 0 && NHeads % KvHeads == 0, "n_key_value_heads", $"must divide n_heads {NHeads} (got {KvHeads})");
        Req(DMlp > 0, "d_mlp", $"must be positive (got {DMlp})");
        Req(DVocab > 0, "d_vocab", $"must be positive (got {DVocab})");
        Req(SlidingWindow is null or > 0, "sliding_window", $"must be positive (got {SlidingWindow})");
        Req(!Rotary || (RotaryDim > 0 && RotaryDim <= DHead && RotaryDim % 2 == 0), "rotary_dim",
            $"must be even and in 1..d_head {DHead} (got {RotaryDim})");
        return this;
    }

    /// <summary>Stable description of the shapes that circuits depend on; circuits saved for one model refuse another.</summary>
    public string Fingerprint =>
        $"{Architecture}/L{NLayers}/H{NHeads}/KV{KvHeads}/D{DModel}/P{(ParallelAttnMlp ? 1 : 0)}/V{DVocab}";
}
