using CircuitNotebooks.Models;
using TorchSharp;
using Xunit;

namespace CircuitNotebooks.Tests.Reference;

public class NaiveWeightsTests
{
    [Fact]
    public void LlamaGqaHasExactlyTheContractNamesAndShapes()
    {
        var cfg = TinyConfigs.LlamaGqa(); // d 32, 4 heads of 8, 2 kv heads, d_mlp 64, vocab 50, no biases, rotary
        var w = NaiveWeights.Random(cfg, 0);
        var expected = new Dictionary<string, int[]>
        {
            ["embed.W_E"] = [50, 32], ["ln_final.w"] = [32], ["unembed.W_U"] = [32, 50], ["unembed.b_U"] = [50],
        };
        for (int l = 0; l < 2; l++)
        {
            expected[$"blocks.{l}.ln1.w"] = [32];
            expected[$"blocks.{l}.ln2.w"] = [32];
            expected[$"blocks.{l}.attn.W_Q"] = [4, 32, 8];
            expected[$"blocks.{l}.attn.W_K"] = [2, 32, 8];
            expected[$"blocks.{l}.attn.W_V"] = [2, 32, 8];
            expected[$"blocks.{l}.attn.W_O"] = [4, 8, 32];
            expected[$"blocks.{l}.mlp.W_in"] = [32, 64];
            expected[$"blocks.{l}.mlp.W_gate"] = [32, 64];
            expected[$"blocks.{l}.mlp.W_out"] = [64, 32];
        }
        Assert.Equal(expected.Keys.OrderBy(k => k), w.Names.OrderBy(k => k));
        foreach (var (name, shape) in expected) Assert.Equal(shape, w[name].Shape);
    }

    [Fact]
    public void Gpt2HasPositionEmbeddingAndAllBiases()
    {
        var w = NaiveWeights.Random(TinyConfigs.Gpt2(), 0);
        Assert.Equal([32, 16], w["pos_embed.W_pos"].Shape);
        Assert.Equal([4, 4], w["blocks.1.attn.b_K"].Shape);
        Assert.Equal([16], w["blocks.1.ln2.b"].Shape);
        Assert.Equal([64], w["blocks.0.mlp.b_in"].Shape);
        Assert.Equal([16], w["ln_final.b"].Shape);
        Assert.False(w.Contains("blocks.0.mlp.W_gate"));
        Assert.Equal(2 + 16 * 2 + 2 + 2, w.Names.Count()); // W_E, W_pos + 16 per layer + ln_final.w/b + W_U/b_U
    }

    [Fact]
    public void RandomIsDeterministicAndNormWeightsSitNearOne()
    {
        var cfg = TinyConfigs.NeoX();
        var a = NaiveWeights.Random(cfg, 42, 0.05);
        var b = NaiveWeights.Random(cfg, 42, 0.05);
        var c = NaiveWeights.Random(cfg, 43, 0.05);
        Assert.Equal(a["blocks.1.attn.W_Q"].Data, b["blocks.1.attn.W_Q"].Data);
        Assert.NotEqual(a["blocks.1.attn.W_Q"].Data, c["blocks.1.attn.W_Q"].Data);
        Assert.InRange(a["blocks.0.ln1.w"].Data.Average(), 0.95, 1.05);
        Assert.InRange(a["blocks.0.ln1.b"].Data.Average(), -0.05, 0.05);
        Assert.Contains(a["blocks.0.attn.b_Q"].Data, v => v != 0);
    }

    [Fact]
    public void TiedEmbeddingsGiveTransposedUnembed()
    {
        var cfg = TinyConfigs.Gpt2() with { TiedEmbeddings = true };
        var w = NaiveWeights.Random(cfg, 1);
        Assert.Equal(w["embed.W_E"][17, 3], w["unembed.W_U"][3, 17]);
    }

    [Fact]
    public void ValidateNamesTheOffendingParameter()
    {
        var cfg = TinyConfigs.Llama();
        var w = NaiveWeights.Random(cfg, 1);
        w["blocks.1.attn.W_K"] = NaiveTensor.Zeros(2, 32, 8);
        var e = Assert.Throws<InvalidDataException>(() => w.Validate(cfg));
        Assert.Contains("blocks.1.attn.W_K", e.Message);
        Assert.Contains("[4, 32, 8]", e.Message);
        var gqa = NaiveWeights.Random(cfg, 1);
        gqa["blocks.0.attn.b_Q"] = NaiveTensor.Zeros(4, 8);
        Assert.Contains("blocks.0.attn.b_Q", Assert.Throws<InvalidDataException>(() => gqa.Validate(cfg)).Message);
    }

    [Fact]
    public void FloatTensorRoundTripKeepsNamesShapesAndValues()
    {
        var cfg = TinyConfigs.NeoX();
        var w = NaiveWeights.Random(cfg, 5, 0.2);
        using var scope = torch.NewDisposeScope();
        var tensors = w.ToFloatTensors();
        Assert.Equal(torch.float32, tensors["blocks.0.attn.W_Q"].dtype);
        Assert.Equal(new long[] { 4, 32, 8 }, tensors["blocks.0.attn.W_Q"].shape);
        Assert.Equal((float)w["blocks.0.attn.W_Q"][2, 5, 7], tensors["blocks.0.attn.W_Q"][2, 5, 7].item<float>());
        var back = NaiveWeights.FromTensors(tensors);
        Assert.Equal(w.Names.OrderBy(n => n), back.Names.OrderBy(n => n));
        foreach (var name in w.Names)
        {
            Assert.Equal(w[name].Shape, back[name].Shape);
            for (int i = 0; i < w[name].Data.Length; i++)
                Assert.Equal((double)(float)w[name].Data[i], back[name].Data[i]);
        }
    }
}
