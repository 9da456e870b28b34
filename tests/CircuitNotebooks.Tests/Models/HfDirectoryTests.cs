using CircuitNotebooks.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Models;

public sealed class HfDirectoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hfdir-tests-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly ModelConfig Cfg = new()
    {
        Architecture = Architecture.GptNeoX, NLayers = 1, DModel = 8, NHeads = 2, NKeyValueHeads = 2, DMlp = 12, DVocab = 9,
        NCtx = 16, Rotary = true, RotaryDim = 2, ParallelAttnMlp = true, Act = Activation.Gelu,
    };

    /// <summary>TransformerLens-named weights with the contract's shapes, filled with seeded random values.</summary>
    private static Dictionary<string, Tensor> TlWeights()
    {
        var g = new torch.Generator(3);
        var shapes = new Dictionary<string, long[]>
        {
            ["embed.W_E"] = [9, 8], ["blocks.0.ln1.w"] = [8], ["blocks.0.ln1.b"] = [8], ["blocks.0.ln2.w"] = [8], ["blocks.0.ln2.b"] = [8],
            ["blocks.0.attn.W_Q"] = [2, 8, 4], ["blocks.0.attn.W_K"] = [2, 8, 4], ["blocks.0.attn.W_V"] = [2, 8, 4],
            ["blocks.0.attn.b_Q"] = [2, 4], ["blocks.0.attn.b_K"] = [2, 4], ["blocks.0.attn.b_V"] = [2, 4],
            ["blocks.0.attn.W_O"] = [2, 4, 8], ["blocks.0.attn.b_O"] = [8],
            ["blocks.0.mlp.W_in"] = [8, 12], ["blocks.0.mlp.b_in"] = [12], ["blocks.0.mlp.W_out"] = [12, 8], ["blocks.0.mlp.b_out"] = [8],
            ["ln_final.w"] = [8], ["ln_final.b"] = [8], ["unembed.W_U"] = [8, 9],
        };
        var d = shapes.ToDictionary(kv => kv.Key, kv => randn(kv.Value, generator: g));
        d["unembed.b_U"] = zeros(9);
        return d;
    }

    [Theory]
    [InlineData(1L << 20)]
    [InlineData(300L)]
    public void SavedModelLoadsBackBitExact(long maxShardBytes)
    {
        using var scope = NewDisposeScope();
        var tl = TlWeights();
        var dir = HfDirectory.Save(Path.Combine(_dir, "m"), Cfg, tl, maxShardBytes);
        Assert.Equal(maxShardBytes < 1000, File.Exists(Path.Combine(dir.Path, "model.safetensors.index.json")));
        Assert.Equal(Cfg, dir.ReadConfig());
        var back = dir.LoadTransformerLensWeights(dir.ReadConfig());
        Assert.Equal(tl.Keys.Order(), back.Keys.Order());
        foreach (var (k, t) in tl) Assert.Equal(t.data<float>().ToArray(), back[k].data<float>().ToArray());
        var half = dir.LoadTransformerLensWeights(Cfg, ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, half["embed.W_E"].dtype);
    }

    [Fact]
    public void MissingPiecesAreNamed()
    {
        var empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        var e = Assert.Throws<FileNotFoundException>(() => HfDirectory.Open(empty));
        Assert.Contains("config.json", e.Message);
        File.WriteAllText(Path.Combine(empty, "config.json"), "{}");
        File.WriteAllText(Path.Combine(empty, "weights.pt"), ""); // only the HF names pytorch_model.bin(.index.json) are read
        e = Assert.Throws<FileNotFoundException>(() => HfDirectory.Open(empty));
        Assert.Contains("no safetensors weights", e.Message);
        Assert.Contains(".bin", e.Message);
        Assert.Throws<DirectoryNotFoundException>(() => HfDirectory.Open(Path.Combine(_dir, "nope")));
    }
}
