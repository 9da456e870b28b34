using CircuitNotebooks.Models;

namespace CircuitNotebooks.Tests.Models;

/// <summary>Tiny configs of each architecture for engine tests (2 layers, small dims).</summary>
public static class ModelFixtures
{
    public static ModelConfig Gpt2 => new()
    {
        Architecture = Architecture.Gpt2, NLayers = 2, DModel = 16, NHeads = 4, DMlp = 32, DVocab = 40, NCtx = 32,
        Act = Activation.GeluNew,
    };

    public static ModelConfig NeoX => new()
    {
        Architecture = Architecture.GptNeoX, NLayers = 2, DModel = 16, NHeads = 4, DMlp = 32, DVocab = 40, NCtx = 32,
        Act = Activation.Gelu, Rotary = true, RotaryDim = 2, ParallelAttnMlp = true,
    };

    public static ModelConfig LlamaGqa => new()
    {
        Architecture = Architecture.Llama, NLayers = 2, DModel = 16, NHeads = 4, NKeyValueHeads = 2, DMlp = 24,
        DVocab = 40, NCtx = 32, Norm = NormKind.RmsNorm, Act = Activation.Silu, Rotary = true, RotaryDim = 4,
        GatedMlp = true, AttnBias = false, MlpBias = false,
    };

    public static IEnumerable<object[]> All => [["gpt2"], ["neox"], ["llama"]];

    public static ModelConfig ByName(string name) => name switch
    {
        "gpt2" => Gpt2,
        "neox" => NeoX,
        "llama" => LlamaGqa,
        _ => throw new ArgumentException(name),
    };

    /// <summary>Random model whose biases and norm weights are non-trivial too, so tests exercise them.</summary>
    public static HookedTransformer RandomModel(string name, int seed = 1)
    {
        var m = HookedTransformer.Create(ByName(name), seed);
        using var _ = TorchSharp.torch.no_grad();
        var gen = new TorchSharp.torch.Generator((ulong)seed + 100);
        foreach (var (n, p) in m.NamedParameters())
        {
            double std = n.Contains("W_") ? 0.3 : 0.1;
            using var r = TorchSharp.torch.randn(p.shape, generator: gen) * std;
            if (n.EndsWith(".w")) p.copy_(r + 1.0); else p.copy_(r);
        }
        return m;
    }
}
