using CircuitNotebooks.Models;

namespace CircuitNotebooks.Tests.Reference;

/// <summary>Small configs, one per architecture variant the engine must support, cheap enough for the naive oracle.</summary>
public static class TinyConfigs
{
    /// <summary>Learned positions, LayerNorm, GeluNew, biases everywhere, sequential residual.</summary>
    public static ModelConfig Gpt2() => new()
    {
        Architecture = Architecture.Gpt2, NLayers = 2, DModel = 16, NHeads = 4, DMlp = 64, DVocab = 50, NCtx = 32,
        Norm = NormKind.LayerNorm, NormEps = 1e-5, Act = Activation.GeluNew,
    };

    /// <summary>Partial rotary (rotary_dim = d_head/2), parallel attention+MLP, exact-erf Gelu.</summary>
    public static ModelConfig NeoX() => new()
    {
        Architecture = Architecture.GptNeoX, NLayers = 2, DModel = 32, NHeads = 4, DMlp = 128, DVocab = 50, NCtx = 32,
        Norm = NormKind.LayerNorm, NormEps = 1e-5, Act = Activation.Gelu,
        Rotary = true, RotaryDim = 4, RotaryBase = 10000, ParallelAttnMlp = true,
    };

    /// <summary>RMSNorm, SiLU gated MLP, no biases, full rotary.</summary>
    public static ModelConfig Llama() => new()
    {
        Architecture = Architecture.Llama, NLayers = 2, DModel = 32, NHeads = 4, NKeyValueHeads = 4, DMlp = 64,
        DVocab = 50, NCtx = 32, Norm = NormKind.RmsNorm, NormEps = 1e-6, Act = Activation.Silu,
        Rotary = true, RotaryDim = 8, RotaryBase = 10000, GatedMlp = true, AttnBias = false, MlpBias = false,
    };

    /// <summary><see cref="Llama"/> with grouped-query attention: 4 query heads share 2 key/value heads.</summary>
    public static ModelConfig LlamaGqa() => Llama() with { NKeyValueHeads = 2 };

    /// <summary>Qwen2: GQA Llama with biases on q/k/v only (no o_proj bias), tied embeddings.</summary>
    public static ModelConfig Qwen2() => LlamaGqa() with { AttnBias = true, AttnOutBias = false, TiedEmbeddings = true, RotaryBase = 1_000_000 };

    /// <summary>Mistral: GQA Llama with a sliding window longer than the test sequences (so attention is fully causal).</summary>
    public static ModelConfig Mistral() => LlamaGqa() with { SlidingWindow = 16 };

    public static IEnumerable<object[]> All() =>
    [
        ["Gpt2"], ["NeoX"], ["Llama"], ["LlamaGqa"], ["Qwen2"], ["Mistral"],
    ];

    public static ModelConfig ByName(string name) => name switch
    {
        "Gpt2" => Gpt2(),
        "NeoX" => NeoX(),
        "Llama" => Llama(),
        "LlamaGqa" => LlamaGqa(),
        "Qwen2" => Qwen2(),
        "Mistral" => Mistral(),
        _ => throw new ArgumentException($"unknown tiny config '{name}'", nameof(name)),
    };
}
