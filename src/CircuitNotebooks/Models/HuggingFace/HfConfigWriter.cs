using CircuitNotebooks.Models;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CircuitNotebooks.Models;

/// <summary>
/// Writes a <see cref="ModelConfig"/> as a Hugging Face <c>config.json</c> of the matching model_type, so a saved
/// model loads back here and in transformers. Refuses configs the HF class cannot express.
/// </summary>
public static class HfConfigWriter
{
    public static void Write(string path, ModelConfig cfg, int? bosTokenId = null, int? eosTokenId = null) =>
        AtomicFile.WriteAllText(path, ToJson(cfg, bosTokenId, eosTokenId).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    public static JsonObject ToJson(ModelConfig cfg, int? bosTokenId = null, int? eosTokenId = null)
    {
        cfg.Validate();
        var o = cfg.Architecture switch
        {
            Architecture.Gpt2 => Gpt2(cfg),
            Architecture.GptNeoX => GptNeoX(cfg),
            Architecture.Llama => Llama(cfg),
            _ => throw new ArgumentOutOfRangeException(nameof(cfg)),
        };
        o["vocab_size"] = cfg.DVocab;
        o["tie_word_embeddings"] = cfg.TiedEmbeddings;
        if (bosTokenId is { } b) o["bos_token_id"] = b;
        if (eosTokenId is { } e) o["eos_token_id"] = e;
        o["torch_dtype"] = "float32";
        return o;
    }

    private static void Require(bool ok, ModelConfig cfg, string what)
    {
        if (!ok) throw new NotSupportedException($"{cfg.Architecture} config.json cannot express {what}.");
    }

    private static string ActName(Activation a) => a switch
    {
        Activation.GeluNew => "gelu_new",
        Activation.Gelu => "gelu",
        Activation.Relu => "relu",
        _ => "silu",
    };

    private static JsonObject Gpt2(ModelConfig c)
    {
        Require(c.Norm == NormKind.LayerNorm && !c.Rotary && !c.GatedMlp && !c.ParallelAttnMlp && c.AttnBias && c.MlpBias
                && c.AttnOutBias && c.KvHeads == c.NHeads && c.SlidingWindow is null, c,
            "anything but LayerNorm, learned positions, biased sequential blocks without GQA or sliding windows");
        return new JsonObject
        {
            ["architectures"] = new JsonArray("GPT2LMHeadModel"),
            ["model_type"] = "gpt2",
            ["n_layer"] = c.NLayers,
            ["n_embd"] = c.DModel,
            ["n_head"] = c.NHeads,
            ["n_inner"] = c.DMlp,
            ["n_positions"] = c.NCtx,
            ["layer_norm_epsilon"] = c.NormEps,
            ["activation_function"] = ActName(c.Act),
        };
    }

    private static JsonObject GptNeoX(ModelConfig c)
    {
        Require(c.Norm == NormKind.LayerNorm && c.Rotary && !c.GatedMlp && c.MlpBias && c.KvHeads == c.NHeads
                && (c.AttnOutBias || !c.AttnBias) && c.SlidingWindow is null, c,
            "anything but LayerNorm, rotary, ungated biased MLP without GQA, q/k/v-only biases or sliding windows");
        double pct = (double)c.RotaryDim / c.DHead;
        Require((int)(pct * c.DHead) == c.RotaryDim, c, $"rotary_dim {c.RotaryDim} exactly as rotary_pct × d_head");
        return new JsonObject
        {
            ["architectures"] = new JsonArray("GPTNeoXForCausalLM"),
            ["model_type"] = "gpt_neox",
            ["num_hidden_layers"] = c.NLayers,
            ["hidden_size"] = c.DModel,
            ["num_attention_heads"] = c.NHeads,
            ["intermediate_size"] = c.DMlp,
            ["max_position_embeddings"] = c.NCtx,
            ["layer_norm_eps"] = c.NormEps,
            ["hidden_act"] = ActName(c.Act),
            ["rotary_pct"] = pct,
            ["rotary_emb_base"] = c.RotaryBase,
            ["use_parallel_residual"] = c.ParallelAttnMlp,
            ["attention_bias"] = c.AttnBias,
        };
    }

    private static JsonObject Llama(ModelConfig c)
    {
        Require(c.Norm == NormKind.RmsNorm && c.Rotary && c.RotaryDim == c.DHead && c.GatedMlp && !c.ParallelAttnMlp, c,
            "anything but RMSNorm, full-width rotary, gated MLP, sequential blocks");
        bool qwen2 = c.AttnBias && !c.AttnOutBias;
        Require(!qwen2 || !c.MlpBias, c, "q/k/v-only attention biases together with MLP biases");
        var (type, arch) = qwen2 ? ("qwen2", "Qwen2ForCausalLM") : c.SlidingWindow is not null ? ("mistral", "MistralForCausalLM") : ("llama", "LlamaForCausalLM");
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(arch),
            ["model_type"] = type,
            ["num_hidden_layers"] = c.NLayers,
            ["hidden_size"] = c.DModel,
            ["num_attention_heads"] = c.NHeads,
            ["num_key_value_heads"] = c.KvHeads,
            ["intermediate_size"] = c.DMlp,
            ["max_position_embeddings"] = c.NCtx,
            ["rms_norm_eps"] = c.NormEps,
            ["hidden_act"] = ActName(c.Act),
            ["rope_theta"] = c.RotaryBase,
        };
        if (qwen2)
        {
            json["use_sliding_window"] = c.SlidingWindow is not null;
            json["sliding_window"] = c.SlidingWindow;
        }
        else
        {
            json["attention_bias"] = c.AttnBias;
            json["mlp_bias"] = c.MlpBias;
            if (c.SlidingWindow is { } w) json["sliding_window"] = w;
        }
        return json;
    }
}
