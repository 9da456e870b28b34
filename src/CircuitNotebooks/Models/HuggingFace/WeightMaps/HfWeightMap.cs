using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>
/// Converts between Hugging Face state dicts (HF names and layouts) and the TransformerLens-named state dict that
/// HookedTransformer uses (see contracts: embed.W_E, blocks.{l}.attn.W_Q, ...). Both directions are exact
/// re-arrangements; every problem with the input is reported in one <see cref="WeightMappingException"/>.
/// Output tensors are new handles (the caller owns them); they may share storage with the input.
/// </summary>
public static class HfWeightMap
{
    /// <param name="source">The weight files, named first in every error.</param>
    public static Dictionary<string, Tensor> ToTransformerLens(ModelConfig cfg, IReadOnlyDictionary<string, Tensor> hf, string? source = null)
    {
        using var scope = NewDisposeScope();
        var reader = new StateDictReader(hf, $"{(source is null ? "" : source + ": ")}Hugging Face {cfg.Architecture} weights → TransformerLens");
        var result = cfg.Architecture switch
        {
            Architecture.Gpt2 => Gpt2WeightMap.ToTl(cfg, reader),
            Architecture.GptNeoX => NeoXWeightMap.ToTl(cfg, reader),
            Architecture.Llama => LlamaWeightMap.ToTl(cfg, reader),
            _ => throw new ArgumentOutOfRangeException(nameof(cfg)),
        };
        reader.ThrowIfProblems(IsHfBuffer);
        return Keep(result);
    }

    public static Dictionary<string, Tensor> ToHuggingFace(ModelConfig cfg, IReadOnlyDictionary<string, Tensor> tl)
    {
        using var scope = NewDisposeScope();
        var reader = new StateDictReader(tl, $"TransformerLens weights → Hugging Face {cfg.Architecture}");
        var result = cfg.Architecture switch
        {
            Architecture.Gpt2 => Gpt2WeightMap.ToHf(cfg, reader),
            Architecture.GptNeoX => NeoXWeightMap.ToHf(cfg, reader),
            Architecture.Llama => LlamaWeightMap.ToHf(cfg, reader),
            _ => throw new ArgumentOutOfRangeException(nameof(cfg)),
        };
        reader.ThrowIfProblems();
        return Keep(result);
    }

    /// <summary>Non-parameter buffers some HF checkpoints carry (causal masks, rotary frequencies): recomputed, never loaded.</summary>
    public static bool IsHfBuffer(string name) =>
        name.EndsWith(".attn.bias") || name.EndsWith(".attn.masked_bias") || name.EndsWith(".attention.bias")
        || name.EndsWith(".attention.masked_bias") || name.EndsWith("rotary_emb.inv_freq");

    private static Dictionary<string, Tensor> Keep(Dictionary<string, Tensor> d)
    {
        foreach (var t in d.Values) t.MoveToOuterDisposeScope();
        return d;
    }

    internal static string B(int layer, string rest) => $"blocks.{layer}.{rest}";

    /// <summary>Unembedding read from an HF lm_head-style [vocab, d_model] weight, or the tied embedding.</summary>
    internal static void UnembedToTl(ModelConfig cfg, StateDictReader r, Dictionary<string, Tensor> tl, string headName, Tensor? wE)
    {
        if (cfg.TiedEmbeddings)
        {
            r.Skip(headName); // transformers may still write the tied duplicate
            if (wE is not null) tl["unembed.W_U"] = HeadLayout.T(wE);
        }
        else if (r.Take(headName, cfg.DVocab, cfg.DModel) is { } w) tl["unembed.W_U"] = HeadLayout.T(w);
        tl["unembed.b_U"] = zeros(cfg.DVocab, dtype: (wE ?? tl.GetValueOrDefault("unembed.W_U"))?.dtype ?? ScalarType.Float32);
    }

    /// <summary>HF causal LMs here have no unembedding bias and tie W_U to W_E when configured: refuse to lose information.</summary>
    internal static void UnembedToHf(ModelConfig cfg, StateDictReader r, Dictionary<string, Tensor> hf, string headName, Tensor? wE)
    {
        var wU = r.Take("unembed.W_U", cfg.DModel, cfg.DVocab);
        if (r.Take("unembed.b_U", cfg.DVocab) is { } bU && bU.ne(0).any().item<bool>())
            r.Problem($"'unembed.b_U' is non-zero but {cfg.Architecture} checkpoints have no unembedding bias");
        if (wU is null) return;
        if (!cfg.TiedEmbeddings) hf[headName] = HeadLayout.T(wU);
        else if (wE is not null && !wU.t().eq(wE).all().item<bool>())
            r.Problem("'unembed.W_U' differs from embed.W_E transposed, but the config ties embeddings");
    }
}
