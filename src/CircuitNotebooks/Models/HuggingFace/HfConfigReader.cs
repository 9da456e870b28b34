namespace CircuitNotebooks.Models;

/// <summary>
/// Reads a Hugging Face <c>config.json</c> into a <see cref="ModelConfig"/>. Defaults for absent optional fields are
/// those of the transformers config classes, so a config that loads in transformers loads the same here.
/// </summary>
public static class HfConfigReader
{
    public static readonly IReadOnlyList<string> SupportedModelTypes = ["gpt2", "gpt_neox", "llama", "mistral", "qwen2"];

    public static ModelConfig Read(string configPath) => FromFields(JsonFields.Load(configPath));

    /// <summary>Parses config JSON text; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig Parse(string json, string source = "config.json")
    {
        System.Text.Json.Nodes.JsonNode? node;
        try { node = System.Text.Json.Nodes.JsonNode.Parse(json); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{source}: not valid JSON: {e.Message}", e); }
        if (node is not System.Text.Json.Nodes.JsonObject o) throw new InvalidDataException($"{source}: top level must be a JSON object.");
        return FromFields(new JsonFields(o, source));
    }

    private static ModelConfig FromFields(JsonFields f)
    {
        var type = f.OptString("model_type") ?? throw new InvalidDataException(
            $"{f.Source}: required field 'model_type' is missing (supported: {string.Join(", ", SupportedModelTypes)}).");
        var cfg = type switch
        {
            "gpt2" => Gpt2(f),
            "gpt_neox" => GptNeoX(f),
            "llama" => Llama(f),
            "mistral" => Llama(f) with { SlidingWindow = SlidingWindow(f, "sliding_window") },
            // Qwen2: Llama with biases on the q/k/v projections only; sliding windows only where use_sliding_window is set.
            "qwen2" => Llama(f) with
            {
                AttnBias = true, AttnOutBias = false, MlpBias = false,
                SlidingWindow = f.Bool("use_sliding_window", false) ? SlidingWindow(f, "sliding_window") : null,
            },
            _ => throw new NotSupportedException(
                $"{f.Source}: model_type '{type}' is not supported (supported: {string.Join(", ", SupportedModelTypes)})."),
        };
        return cfg.Validate(f.Source);
    }

    private static ModelConfig Gpt2(JsonFields f)
    {
        int d = f.Int("n_embd");
        return new ModelConfig
        {
            Architecture = Architecture.Gpt2,
            NLayers = f.Int("n_layer"),
            DModel = d,
            NHeads = f.Int("n_head"),
            NKeyValueHeads = f.Int("n_head"),
            DMlp = f.OptInt("n_inner") ?? 4 * d,
            DVocab = f.Int("vocab_size"),
            NCtx = f.OptInt("n_positions") ?? 1024,
            Norm = NormKind.LayerNorm,
            NormEps = f.Double("layer_norm_epsilon", 1e-5),
            Act = Act(f, "activation_function", "gelu_new"),
            TiedEmbeddings = f.Bool("tie_word_embeddings", true),
        };
    }

    private static ModelConfig GptNeoX(JsonFields f)
    {
        int d = f.Int("hidden_size"), heads = f.Int("num_attention_heads");
        double pct = f.Double("rotary_pct", 0.25);
        return new ModelConfig
        {
            Architecture = Architecture.GptNeoX,
            NLayers = f.Int("num_hidden_layers"),
            DModel = d,
            NHeads = heads,
            NKeyValueHeads = heads,
            DMlp = f.Int("intermediate_size"),
            DVocab = f.Int("vocab_size"),
            NCtx = f.OptInt("max_position_embeddings") ?? 2048,
            Norm = NormKind.LayerNorm,
            NormEps = f.Double("layer_norm_eps", 1e-5),
            Act = Act(f, "hidden_act", "gelu"),
            Rotary = true,
            // Same truncation as transformers' int(rotary_pct * head_size).
            RotaryDim = heads > 0 ? (int)(pct * (d / heads)) : 0,
            RotaryBase = f.OptDouble("rotary_emb_base") ?? f.Double("rope_theta", 10000),
            ParallelAttnMlp = f.Bool("use_parallel_residual", true),
            AttnBias = f.Bool("attention_bias", true),
            MlpBias = true,
            TiedEmbeddings = f.Bool("tie_word_embeddings", false),
        };
    }

    private static ModelConfig Llama(JsonFields f)
    {
        int d = f.Int("hidden_size"), heads = f.Int("num_attention_heads");
        if (f.Has("rope_scaling"))
            throw new NotSupportedException($"{f.Source}: field 'rope_scaling' is set; scaled rotary embeddings are not implemented.");
        if (f.OptInt("head_dim") is { } hd && heads > 0 && hd != d / heads)
            throw new NotSupportedException($"{f.Source}: field 'head_dim' = {hd} differs from hidden_size/num_attention_heads = {d / heads}; not supported.");
        return new ModelConfig
        {
            Architecture = Architecture.Llama,
            NLayers = f.Int("num_hidden_layers"),
            DModel = d,
            NHeads = heads,
            NKeyValueHeads = f.OptInt("num_key_value_heads") ?? heads,
            DMlp = f.Int("intermediate_size"),
            DVocab = f.Int("vocab_size"),
            NCtx = f.OptInt("max_position_embeddings") ?? 2048,
            Norm = NormKind.RmsNorm,
            NormEps = f.Double("rms_norm_eps", 1e-6),
            Act = Act(f, "hidden_act", "silu"),
            Rotary = true,
            RotaryDim = heads > 0 ? d / heads : 0,
            RotaryBase = f.Double("rope_theta", 10000),
            GatedMlp = true,
            AttnBias = f.Bool("attention_bias", false),
            MlpBias = f.Bool("mlp_bias", false),
            TiedEmbeddings = f.Bool("tie_word_embeddings", false),
        };
    }

    /// <summary>A window at least max_position_embeddings long never restricts attention, so it is dropped.</summary>
    private static int? SlidingWindow(JsonFields f, string field)
    {
        if (f.OptInt(field) is not { } w) return null;
        if (w <= 0) throw new InvalidDataException($"{f.Source}: field '{field}' must be positive (got {w}).");
        return w >= (f.OptInt("max_position_embeddings") ?? 2048) ? null : w;
    }

    private static Activation Act(JsonFields f, string field, string fallback) => f.String(field, fallback) switch
    {
        // gelu_fast and gelu_pytorch_tanh are the same tanh approximation as gelu_new.
        "gelu_new" or "gelu_fast" or "gelu_pytorch_tanh" => Activation.GeluNew,
        "gelu" => Activation.Gelu,
        "relu" => Activation.Relu,
        "silu" or "swish" => Activation.Silu,
        var other => throw new NotSupportedException(
            $"{f.Source}: field '{field}' = '{other}' is not supported (supported: gelu_new, gelu_fast, gelu_pytorch_tanh, gelu, relu, silu)."),
    };
}
