using CircuitNotebooks.Models;
using Xunit;

namespace CircuitNotebooks.Tests.Models;

public sealed class HfConfigTests
{
    // Field values as published for gpt2, EleutherAI/pythia-70m and a TinyLlama-shaped config.
    private const string Gpt2Json = """
        {"activation_function":"gelu_new","architectures":["GPT2LMHeadModel"],"attn_pdrop":0.1,"bos_token_id":50256,
         "embd_pdrop":0.1,"eos_token_id":50256,"layer_norm_epsilon":1e-05,"model_type":"gpt2","n_ctx":1024,"n_embd":768,
         "n_head":12,"n_layer":12,"n_positions":1024,"vocab_size":50257,"n_inner":null}
        """;

    private const string PythiaJson = """
        {"architectures":["GPTNeoXForCausalLM"],"bos_token_id":0,"eos_token_id":0,"hidden_act":"gelu","hidden_size":512,
         "initializer_range":0.02,"intermediate_size":2048,"layer_norm_eps":1e-05,"max_position_embeddings":2048,
         "model_type":"gpt_neox","num_attention_heads":8,"num_hidden_layers":6,"rotary_emb_base":10000,"rotary_pct":0.25,
         "tie_word_embeddings":false,"torch_dtype":"float16","use_cache":true,"use_parallel_residual":true,"vocab_size":50304}
        """;

    private const string LlamaJson = """
        {"architectures":["LlamaForCausalLM"],"hidden_act":"silu","hidden_size":2048,"intermediate_size":5632,
         "max_position_embeddings":2048,"model_type":"llama","num_attention_heads":32,"num_hidden_layers":22,
         "num_key_value_heads":4,"rms_norm_eps":1e-05,"rope_scaling":null,"rope_theta":10000.0,"tie_word_embeddings":false,
         "vocab_size":32000}
        """;

    // Field values as published for Qwen/Qwen2-0.5B and mistralai/Mistral-7B-v0.1.
    private const string Qwen2Json = """
        {"architectures":["Qwen2ForCausalLM"],"attention_dropout":0.0,"bos_token_id":151643,"eos_token_id":151643,
         "hidden_act":"silu","hidden_size":896,"initializer_range":0.02,"intermediate_size":4864,"max_position_embeddings":131072,
         "max_window_layers":24,"model_type":"qwen2","num_attention_heads":14,"num_hidden_layers":24,"num_key_value_heads":2,
         "rms_norm_eps":1e-06,"rope_theta":1000000.0,"sliding_window":131072,"tie_word_embeddings":true,"torch_dtype":"bfloat16",
         "use_cache":true,"use_sliding_window":false,"vocab_size":151936}
        """;

    private const string MistralJson = """
        {"architectures":["MistralForCausalLM"],"bos_token_id":1,"eos_token_id":2,"hidden_act":"silu","hidden_size":4096,
         "initializer_range":0.02,"intermediate_size":14336,"max_position_embeddings":32768,"model_type":"mistral",
         "num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":8,"rms_norm_eps":1e-05,"rope_theta":10000.0,
         "sliding_window":4096,"tie_word_embeddings":false,"torch_dtype":"bfloat16","use_cache":true,"vocab_size":32000}
        """;

    [Fact]
    public void Qwen2ConfigHasQkvBiasesWithoutOutputOrMlpBias()
    {
        var c = HfConfigReader.Parse(Qwen2Json);
        Assert.Equal(Architecture.Llama, c.Architecture);
        Assert.Equal((24, 896, 14, 2, 4864, 151936), (c.NLayers, c.DModel, c.NHeads, c.KvHeads, c.DMlp, c.DVocab));
        Assert.True(c.AttnBias && !c.AttnOutBias && !c.MlpBias && c.TiedEmbeddings && c.GatedMlp);
        Assert.Equal((64, 1e6, 1e-6), (c.RotaryDim, c.RotaryBase, c.NormEps));
        Assert.Null(c.SlidingWindow); // use_sliding_window is false
        Assert.Equal(4096, HfConfigReader.Parse(Qwen2Json.Replace("\"use_sliding_window\":false", "\"use_sliding_window\":true")
            .Replace("\"sliding_window\":131072", "\"sliding_window\":4096")).SlidingWindow);
    }

    [Fact]
    public void Qwen2UnsupportedFieldIsNamedWithFile()
    {
        var e = Assert.Throws<NotSupportedException>(() => HfConfigReader.Parse(
            Qwen2Json.Replace("\"rope_theta\":1000000.0", "\"rope_theta\":1000000.0,\"rope_scaling\":{\"type\":\"yarn\",\"factor\":4.0}"), "qwen/config.json"));
        Assert.Contains("qwen/config.json", e.Message);
        Assert.Contains("'rope_scaling'", e.Message);
        var t = Assert.Throws<InvalidDataException>(() => HfConfigReader.Parse(Qwen2Json.Replace("\"use_sliding_window\":false", "\"use_sliding_window\":\"no\""), "qwen/config.json"));
        Assert.Contains("'use_sliding_window'", t.Message);
    }

    [Fact]
    public void MistralConfigKeepsItsSlidingWindowAndTheModelRefusesLongerInputs()
    {
        var c = HfConfigReader.Parse(MistralJson);
        Assert.Equal((32, 4096, 32, 8, 14336, 32000), (c.NLayers, c.DModel, c.NHeads, c.KvHeads, c.DMlp, c.DVocab));
        Assert.False(c.AttnBias || c.MlpBias || c.TiedEmbeddings);
        Assert.Equal(4096, c.SlidingWindow);
        Assert.Null(HfConfigReader.Parse(MistralJson.Replace("\"sliding_window\":4096", "\"sliding_window\":null")).SlidingWindow);
        var e = Assert.Throws<InvalidDataException>(() => HfConfigReader.Parse(MistralJson.Replace("\"sliding_window\":4096", "\"sliding_window\":0"), "m/config.json"));
        Assert.Contains("m/config.json", e.Message);
        Assert.Contains("'sliding_window'", e.Message);

        using var model = new HookedTransformer(Reference.TinyConfigs.Mistral());
        using var ok = TorchSharp.torch.zeros(1, 16, dtype: TorchSharp.torch.ScalarType.Int64);
        using var tooLong = TorchSharp.torch.zeros(1, 17, dtype: TorchSharp.torch.ScalarType.Int64);
        using var logits = model.Forward(ok);
        var ex = Assert.Throws<ArgumentException>(() => model.Forward(tooLong));
        Assert.Contains("sliding_window 16", ex.Message);
    }

    [Fact]
    public void Gpt2ConfigMapsFieldsAndDefaultsInnerToFourTimesWidth()
    {
        var c = HfConfigReader.Parse(Gpt2Json);
        Assert.Equal(new ModelConfig
        {
            Architecture = Architecture.Gpt2, NLayers = 12, DModel = 768, NHeads = 12, NKeyValueHeads = 12, DMlp = 3072,
            DVocab = 50257, NCtx = 1024, Norm = NormKind.LayerNorm, NormEps = 1e-5, Act = Activation.GeluNew,
            TiedEmbeddings = true,
        }, c);
    }

    [Fact]
    public void NeoXConfigMapsRotaryFractionAndParallelResidual()
    {
        var c = HfConfigReader.Parse(PythiaJson);
        Assert.Equal(Architecture.GptNeoX, c.Architecture);
        Assert.Equal((6, 512, 8, 2048, 50304, 2048), (c.NLayers, c.DModel, c.NHeads, c.DMlp, c.DVocab, c.NCtx));
        Assert.Equal(16, c.RotaryDim); // 0.25 × (512/8)
        Assert.True(c.Rotary && c.ParallelAttnMlp && c.AttnBias && c.MlpBias);
        Assert.False(c.TiedEmbeddings);
        Assert.Equal(Activation.Gelu, c.Act);
        Assert.Equal(10000, c.RotaryBase);
    }

    [Fact]
    public void LlamaConfigMapsGqaRmsNormAndGatedMlp()
    {
        var c = HfConfigReader.Parse(LlamaJson);
        Assert.Equal(Architecture.Llama, c.Architecture);
        Assert.Equal((22, 2048, 32, 4, 5632, 32000), (c.NLayers, c.DModel, c.NHeads, c.KvHeads, c.DMlp, c.DVocab));
        Assert.Equal(NormKind.RmsNorm, c.Norm);
        Assert.Equal(1e-5, c.NormEps);
        Assert.Equal(64, c.RotaryDim);
        Assert.True(c.GatedMlp && c.Rotary);
        Assert.False(c.AttnBias || c.MlpBias || c.TiedEmbeddings || c.ParallelAttnMlp);
        Assert.Equal(Activation.Silu, c.Act);
    }

    [Fact]
    public void MistralIsReadLikeLlama() =>
        Assert.Equal(HfConfigReader.Parse(LlamaJson), HfConfigReader.Parse(LlamaJson.Replace("\"llama\"", "\"mistral\"")));

    [Fact]
    public void WrongTypedFieldIsNamedWithFile()
    {
        var e = Assert.Throws<InvalidDataException>(() => HfConfigReader.Parse(Gpt2Json.Replace("\"n_layer\":12", "\"n_layer\":\"12\""), "/m/config.json"));
        Assert.Contains("/m/config.json", e.Message);
        Assert.Contains("'n_layer'", e.Message);
        e = Assert.Throws<InvalidDataException>(() => HfConfigReader.Parse(PythiaJson.Replace("\"use_parallel_residual\":true", "\"use_parallel_residual\":1")));
        Assert.Contains("'use_parallel_residual'", e.Message);
        e = Assert.Throws<InvalidDataException>(() => HfConfigReader.Parse(PythiaJson.Replace("\"hidden_size\":512", "\"hidden_size\":512.5")));
        Assert.Contains("'hidden_size'", e.Message);
    }

    [Fact]
    public void MissingFieldIsNamedWithFile()
    {
        var e = Assert.Throws<InvalidDataException>(() => HfConfigReader.Parse(LlamaJson.Replace("\"intermediate_size\":5632,", ""), "x/config.json"));
        Assert.Contains("x/config.json", e.Message);
        Assert.Contains("'intermediate_size'", e.Message);
    }

    [Fact]
    public void UnsupportedModelTypeListsSupportedOnes()
    {
        var e = Assert.Throws<NotSupportedException>(() => HfConfigReader.Parse("{\"model_type\":\"bert\"}"));
        Assert.Contains("'bert'", e.Message);
        foreach (var t in new[] { "gpt2", "gpt_neox", "llama", "mistral", "qwen2" }) Assert.Contains(t, e.Message);
    }

    [Fact]
    public void RopeScalingIsRefusedRatherThanSilentlyIgnored() =>
        Assert.Throws<NotSupportedException>(() => HfConfigReader.Parse(LlamaJson.Replace("\"rope_scaling\":null", "\"rope_scaling\":{\"type\":\"linear\",\"factor\":2.0}")));

    public static TheoryData<ModelConfig> Configs => new()
    {
        new ModelConfig { Architecture = Architecture.Gpt2, NLayers = 2, DModel = 16, NHeads = 4, NKeyValueHeads = 4, DMlp = 40, DVocab = 37, NCtx = 32, NormEps = 1e-5, Act = Activation.Relu, TiedEmbeddings = true },
        new ModelConfig { Architecture = Architecture.GptNeoX, NLayers = 3, DModel = 24, NHeads = 2, NKeyValueHeads = 2, DMlp = 96, DVocab = 50, NCtx = 64, Rotary = true, RotaryDim = 6, RotaryBase = 500, ParallelAttnMlp = false, Act = Activation.Gelu },
        new ModelConfig { Architecture = Architecture.Llama, NLayers = 1, DModel = 32, NHeads = 4, NKeyValueHeads = 2, DMlp = 48, DVocab = 20, NCtx = 128, Norm = NormKind.RmsNorm, NormEps = 1e-6, Act = Activation.Silu, Rotary = true, RotaryDim = 8, RotaryBase = 1e6, GatedMlp = true, AttnBias = false, MlpBias = false, TiedEmbeddings = true },
        Reference.TinyConfigs.Qwen2() with { NCtx = 64 },
        Reference.TinyConfigs.Mistral(),
        Reference.TinyConfigs.Qwen2() with { SlidingWindow = 8 },
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void WrittenConfigReadsBackToTheSameModelConfig(ModelConfig cfg)
    {
        var dir = Directory.CreateTempSubdirectory("cfg-").FullName;
        try
        {
            var path = Path.Combine(dir, "config.json");
            HfConfigWriter.Write(path, cfg, bosTokenId: 1, eosTokenId: 2);
            Assert.Equal(cfg, HfConfigReader.Read(path));
            Assert.Single(Directory.GetFiles(dir)); // no temp file left behind
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void WriterRefusesConfigsTheHfClassCannotExpress() =>
        Assert.Throws<NotSupportedException>(() => HfConfigWriter.ToJson(new ModelConfig
        {
            Architecture = Architecture.Gpt2, NLayers = 1, DModel = 8, NHeads = 2, DMlp = 8, DVocab = 5, Rotary = true, RotaryDim = 4,
        }));
}
