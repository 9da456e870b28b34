using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

public sealed partial class HookedTransformer
{
    /// <summary>
    /// Loads a local Hugging Face model directory: config.json, model.safetensors (or a sharded index) in F32/F16/BF16,
    /// (or pytorch_model.bin, read without running pickled code), and the tokenizer when tokenizer.json, vocab.json +
    /// merges.txt or a SentencePiece tokenizer.model is present. Weights are converted to
    /// <paramref name="dtype"/> and placed on <paramref name="device"/> together. No network access.
    /// </summary>
    public static HookedTransformer FromPretrained(string directory, Device? device = null, ScalarType dtype = ScalarType.Float32,
        bool loadTokenizer = true)
    {
        var dir = HfDirectory.Open(directory);
        var cfg = dir.ReadConfig();
        var model = new HookedTransformer(cfg, device, dtype);
        try
        {
            using var scope = NewDisposeScope();
            var weights = dir.LoadTransformerLensWeights(cfg, dtype, device);
            model.LoadStateDict(weights, dir.Path);
            // HF GPT-2 / GPT-NeoX / Llama checkpoints have no unembedding bias: the zero one stays frozen, so a
            // fine-tuned model still saves back in the checkpoint's own layout.
            using (no_grad())
                if (model.unembed_b_U.eq(0).all().item<bool>()) model.unembed_b_U.requires_grad_(false);
            if (loadTokenizer && HasTokenizer(dir.Path)) model.Tokenizer = dir.LoadTokenizer();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static bool HasTokenizer(string path) =>
        File.Exists(Path.Combine(path, "tokenizer.json")) || File.Exists(Path.Combine(path, "tokenizer.model")) ||
        (File.Exists(Path.Combine(path, "vocab.json")) && File.Exists(Path.Combine(path, "merges.txt")));

    /// <summary>
    /// Writes config.json and safetensors weights (HF names and layouts, sharded above <paramref name="maxShardBytes"/>),
    /// each file atomically. Tokenizer files are the caller's to copy.
    /// </summary>
    public void SavePretrained(string directory, long maxShardBytes = 2L << 30)
    {
        using var scope = NewDisposeScope();
        var state = StateDict();
        try
        {
            HfDirectory.Save(directory, Config, state, maxShardBytes, Tokenizer?.BosId, Tokenizer?.EosId);
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }
}
