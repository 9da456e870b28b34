using CircuitNotebooks.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Models;

public sealed class HfWeightMapTests
{
    private static readonly ModelConfig Gpt2Cfg = new()
    { Architecture = Architecture.Gpt2, NLayers = 2, DModel = 6, NHeads = 2, NKeyValueHeads = 2, DMlp = 10, DVocab = 7, NCtx = 5, TiedEmbeddings = true };

    private static readonly ModelConfig NeoXCfg = new()
    { Architecture = Architecture.GptNeoX, NLayers = 2, DModel = 6, NHeads = 2, NKeyValueHeads = 2, DMlp = 10, DVocab = 7, Rotary = true, RotaryDim = 2, ParallelAttnMlp = true };

    private static readonly ModelConfig LlamaCfg = new()
    {
        Architecture = Architecture.Llama, NLayers = 2, DModel = 8, NHeads = 4, NKeyValueHeads = 2, DMlp = 10, DVocab = 7, Norm = NormKind.RmsNorm,
        Rotary = true, RotaryDim = 2, GatedMlp = true, AttnBias = false, MlpBias = false, Act = Activation.Silu,
    };

    private static readonly ModelConfig Qwen2Cfg = LlamaCfg with { AttnBias = true, AttnOutBias = false, TiedEmbeddings = true };

    /// <summary>HF checkpoint names and shapes, written out from the transformers module definitions.</summary>
    private static IEnumerable<(string, long[])> HfShapes(ModelConfig c)
    {
        long d = c.DModel, m = c.DMlp, v = c.DVocab;
        switch (c.Architecture)
        {
            case Architecture.Gpt2:
                yield return ("transformer.wte.weight", [v, d]);
                yield return ("transformer.wpe.weight", [c.NCtx, d]);
                for (int l = 0; l < c.NLayers; l++)
                {
                    var p = $"transformer.h.{l}.";
                    yield return (p + "ln_1.weight", [d]); yield return (p + "ln_1.bias", [d]);
                    yield return (p + "attn.c_attn.weight", [d, 3 * d]); yield return (p + "attn.c_attn.bias", [3 * d]);
                    yield return (p + "attn.c_proj.weight", [d, d]); yield return (p + "attn.c_proj.bias", [d]);
                    yield return (p + "ln_2.weight", [d]); yield return (p + "ln_2.bias", [d]);
                    yield return (p + "mlp.c_fc.weight", [d, m]); yield return (p + "mlp.c_fc.bias", [m]);
                    yield return (p + "mlp.c_proj.weight", [m, d]); yield return (p + "mlp.c_proj.bias", [d]);
                }
                yield return ("transformer.ln_f.weight", [d]); yield return ("transformer.ln_f.bias", [d]);
                break;
            case Architecture.GptNeoX:
                yield return ("gpt_neox.embed_in.weight", [v, d]);
                for (int l = 0; l < c.NLayers; l++)
                {
                    var p = $"gpt_neox.layers.{l}.";
                    yield return (p + "input_layernorm.weight", [d]); yield return (p + "input_layernorm.bias", [d]);
                    yield return (p + "post_attention_layernorm.weight", [d]); yield return (p + "post_attention_layernorm.bias", [d]);
                    yield return (p + "attention.query_key_value.weight", [3 * d, d]); yield return (p + "attention.query_key_value.bias", [3 * d]);
                    yield return (p + "attention.dense.weight", [d, d]); yield return (p + "attention.dense.bias", [d]);
                    yield return (p + "mlp.dense_h_to_4h.weight", [m, d]); yield return (p + "mlp.dense_h_to_4h.bias", [m]);
                    yield return (p + "mlp.dense_4h_to_h.weight", [d, m]); yield return (p + "mlp.dense_4h_to_h.bias", [d]);
                }
                yield return ("gpt_neox.final_layer_norm.weight", [d]); yield return ("gpt_neox.final_layer_norm.bias", [d]);
                yield return ("embed_out.weight", [v, d]);
                break;
            default:
                long dh = c.DHead;
                yield return ("model.embed_tokens.weight", [v, d]);
                for (int l = 0; l < c.NLayers; l++)
                {
                    var p = $"model.layers.{l}.";
                    yield return (p + "input_layernorm.weight", [d]); yield return (p + "post_attention_layernorm.weight", [d]);
                    yield return (p + "self_attn.q_proj.weight", [c.NHeads * dh, d]);
                    yield return (p + "self_attn.k_proj.weight", [c.KvHeads * dh, d]);
                    yield return (p + "self_attn.v_proj.weight", [c.KvHeads * dh, d]);
                    yield return (p + "self_attn.o_proj.weight", [d, c.NHeads * dh]);
                    if (c.AttnBias)
                    {
                        yield return (p + "self_attn.q_proj.bias", [c.NHeads * dh]);
                        yield return (p + "self_attn.k_proj.bias", [c.KvHeads * dh]);
                        yield return (p + "self_attn.v_proj.bias", [c.KvHeads * dh]);
                    }
                    yield return (p + "mlp.gate_proj.weight", [m, d]); yield return (p + "mlp.up_proj.weight", [m, d]);
                    yield return (p + "mlp.down_proj.weight", [d, m]);
                }
                yield return ("model.norm.weight", [d]);
                if (!c.TiedEmbeddings) yield return ("lm_head.weight", [v, d]);
                break;
        }
    }

    /// <summary>Each element distinct and traceable: value = 1000·tensorIndex + flat index.</summary>
    private static Dictionary<string, Tensor> Numbered(ModelConfig c)
    {
        int i = 0;
        return HfShapes(c).ToDictionary(x => x.Item1, x =>
        {
            long n = x.Item2.Aggregate(1L, (a, b) => a * b);
            return (arange(n, dtype: ScalarType.Float64) + 1000.0 * i++).reshape(x.Item2);
        });
    }

    public static TheoryData<string> Archs => new() { "gpt2", "neox", "llama", "qwen2" };
    private static ModelConfig Cfg(string a) => a switch { "gpt2" => Gpt2Cfg, "neox" => NeoXCfg, "qwen2" => Qwen2Cfg, _ => LlamaCfg };

    [Theory]
    [MemberData(nameof(Archs))]
    public void HfToTlToHfIsExact(string arch)
    {
        using var scope = NewDisposeScope();
        var cfg = Cfg(arch);
        var hf = Numbered(cfg);
        var withBuffers = new Dictionary<string, Tensor>(hf) { ["some.layers.0.attention.rotary_emb.inv_freq"] = ones(1) };
        var tl = HfWeightMap.ToTransformerLens(cfg, withBuffers);
        Assert.Equal(0.0, tl["unembed.b_U"].abs().sum().ToDouble());
        var back = HfWeightMap.ToHuggingFace(cfg, tl);
        Assert.Equal(hf.Keys.Order(), back.Keys.Order());
        foreach (var (k, t) in hf)
        {
            Assert.Equal(t.shape, back[k].shape);
            Assert.Equal(t.data<double>().ToArray(), back[k].data<double>().ToArray());
        }
    }

    [Fact]
    public void NeoXQkvIsInterleavedPerHead()
    {
        using var scope = NewDisposeScope();
        var tl = HfWeightMap.ToTransformerLens(NeoXCfg, Numbered(NeoXCfg));
        var hf = Numbered(NeoXCfg);
        var w = hf["gpt_neox.layers.1.attention.query_key_value.weight"]; // [3d, d] = [18, 6], rows [head, q/k/v, d_head]
        var b = hf["gpt_neox.layers.1.attention.query_key_value.bias"];
        var dense = hf["gpt_neox.layers.1.attention.dense.weight"];
        int H = 2, dh = 3, d = 6;
        string[] names = ["W_Q", "W_K", "W_V"];
        for (int which = 0; which < 3; which++)
        {
            var tw = tl["blocks.1.attn." + names[which]];
            var tb = tl["blocks.1.attn.b_" + names[which][2]];
            for (int h = 0; h < H; h++)
                for (int j = 0; j < dh; j++)
                {
                    int row = h * 3 * dh + which * dh + j;
                    Assert.Equal(b[row].ToDouble(), tb[h, j].ToDouble());
                    for (int i = 0; i < d; i++) Assert.Equal(w[row, i].ToDouble(), tw[h, i, j].ToDouble());
                }
        }
        // W_O[h, j, o] = dense[o, h·d_head + j]; W_in[i, m] = h_to_4h[m, i]
        var wo = tl["blocks.1.attn.W_O"];
        for (int h = 0; h < H; h++) for (int j = 0; j < dh; j++) for (int o = 0; o < d; o++)
            Assert.Equal(dense[o, h * dh + j].ToDouble(), wo[h, j, o].ToDouble());
        Assert.Equal(hf["gpt_neox.layers.1.mlp.dense_h_to_4h.weight"][4, 2].ToDouble(), tl["blocks.1.mlp.W_in"][2, 4].ToDouble());
        Assert.Equal(hf["embed_out.weight"][5, 1].ToDouble(), tl["unembed.W_U"][1, 5].ToDouble());
    }

    [Fact]
    public void Gpt2CAttnIsQkvBlocksWithHeadsContiguous()
    {
        using var scope = NewDisposeScope();
        var hf = Numbered(Gpt2Cfg);
        // Also accept checkpoints saved without the "transformer." prefix.
        var bare = hf.ToDictionary(kv => kv.Key.Replace("transformer.", ""), kv => kv.Value);
        bare["lm_head.weight"] = hf["transformer.wte.weight"]; // tied duplicate is tolerated
        bare["h.0.attn.bias"] = ones(1, 1, 5, 5);             // causal-mask buffer of old checkpoints
        var tl = HfWeightMap.ToTransformerLens(Gpt2Cfg, bare);
        var cAttn = hf["transformer.h.0.attn.c_attn.weight"]; // [d, 3d], Conv1D in → out
        var cProj = hf["transformer.h.0.attn.c_proj.weight"];
        int H = 2, dh = 3, d = 6;
        string[] names = ["W_Q", "W_K", "W_V"];
        for (int which = 0; which < 3; which++)
            for (int h = 0; h < H; h++) for (int i = 0; i < d; i++) for (int j = 0; j < dh; j++)
                Assert.Equal(cAttn[i, which * d + h * dh + j].ToDouble(), tl["blocks.0.attn." + names[which]][h, i, j].ToDouble());
        for (int h = 0; h < H; h++) for (int j = 0; j < dh; j++) for (int o = 0; o < d; o++)
            Assert.Equal(cProj[h * dh + j, o].ToDouble(), tl["blocks.0.attn.W_O"][h, j, o].ToDouble());
        Assert.Equal(hf["transformer.wte.weight"][3, 4].ToDouble(), tl["unembed.W_U"][4, 3].ToDouble());
        Assert.Equal(hf["transformer.wpe.weight"][2, 1].ToDouble(), tl["pos_embed.W_pos"][2, 1].ToDouble());
    }

    [Fact]
    public void LlamaGqaProjectionsSplitByKvHeads()
    {
        using var scope = NewDisposeScope();
        var hf = Numbered(LlamaCfg);
        var tl = HfWeightMap.ToTransformerLens(LlamaCfg, hf);
        var k = hf["model.layers.0.self_attn.k_proj.weight"]; // [kv·dh, d] = [4, 8]
        Assert.Equal(new long[] { 2, 8, 2 }, tl["blocks.0.attn.W_K"].shape);
        for (int h = 0; h < 2; h++) for (int i = 0; i < 8; i++) for (int j = 0; j < 2; j++)
            Assert.Equal(k[h * 2 + j, i].ToDouble(), tl["blocks.0.attn.W_K"][h, i, j].ToDouble());
        Assert.Equal(hf["model.layers.1.mlp.gate_proj.weight"][7, 3].ToDouble(), tl["blocks.1.mlp.W_gate"][3, 7].ToDouble());
        Assert.Equal(hf["model.layers.1.mlp.up_proj.weight"][7, 3].ToDouble(), tl["blocks.1.mlp.W_in"][3, 7].ToDouble());
        Assert.Equal(hf["model.layers.1.mlp.down_proj.weight"][3, 7].ToDouble(), tl["blocks.1.mlp.W_out"][7, 3].ToDouble());
        Assert.False(tl.ContainsKey("blocks.0.attn.b_Q") || tl.ContainsKey("blocks.0.ln1.b"));
    }

    [Fact]
    public void Qwen2QkvBiasesSplitByHeadAndThereIsNoOutputBias()
    {
        using var scope = NewDisposeScope();
        var hf = Numbered(Qwen2Cfg);
        var tl = HfWeightMap.ToTransformerLens(Qwen2Cfg, hf);
        var kb = hf["model.layers.1.self_attn.k_proj.bias"]; // [kv·dh] = [4]
        for (int h = 0; h < 2; h++) for (int j = 0; j < 2; j++)
            Assert.Equal(kb[h * 2 + j].ToDouble(), tl["blocks.1.attn.b_K"][h, j].ToDouble());
        Assert.Equal(new long[] { 4, 2 }, tl["blocks.0.attn.b_Q"].shape);
        Assert.False(tl.ContainsKey("blocks.0.attn.b_O"));
        Assert.Equal(hf["model.embed_tokens.weight"][5, 2].ToDouble(), tl["unembed.W_U"][2, 5].ToDouble()); // tied
        // A checkpoint that does carry an o_proj bias is not silently accepted as Qwen2.
        hf["model.layers.0.self_attn.o_proj.bias"] = zeros(8, dtype: ScalarType.Float64);
        var e = Assert.Throws<WeightMappingException>(() => HfWeightMap.ToTransformerLens(Qwen2Cfg, hf));
        Assert.Contains(e.Problems, p => p.Contains("unexpected 'model.layers.0.self_attn.o_proj.bias'"));
    }

    [Fact]
    public void AllProblemsAreReportedTogether()
    {
        using var scope = NewDisposeScope();
        var hf = Numbered(NeoXCfg);
        hf.Remove("gpt_neox.layers.0.attention.dense.weight");
        hf["gpt_neox.layers.1.mlp.dense_4h_to_h.weight"] = zeros(6, 9);
        hf["gpt_neox.layers.7.mystery.weight"] = zeros(1);
        var e = Assert.Throws<WeightMappingException>(() => HfWeightMap.ToTransformerLens(NeoXCfg, hf));
        Assert.Equal(3, e.Problems.Count);
        Assert.Contains(e.Problems, p => p.Contains("missing 'gpt_neox.layers.0.attention.dense.weight'"));
        Assert.Contains(e.Problems, p => p.Contains("'gpt_neox.layers.1.mlp.dense_4h_to_h.weight' has shape [6, 9], expected [6, 10]"));
        Assert.Contains(e.Problems, p => p.Contains("unexpected 'gpt_neox.layers.7.mystery.weight'"));
    }

    [Fact]
    public void SavingRefusesToDropANonZeroUnembedBiasOrUntiedUnembed()
    {
        using var scope = NewDisposeScope();
        var tl = HfWeightMap.ToTransformerLens(Gpt2Cfg, Numbered(Gpt2Cfg));
        tl["unembed.b_U"] = ones(7, dtype: ScalarType.Float64);
        tl["unembed.W_U"] = tl["unembed.W_U"] + 1;
        var e = Assert.Throws<WeightMappingException>(() => HfWeightMap.ToHuggingFace(Gpt2Cfg, tl));
        Assert.Contains(e.Problems, p => p.Contains("unembed.b_U"));
        Assert.Contains(e.Problems, p => p.Contains("unembed.W_U"));
    }
}
