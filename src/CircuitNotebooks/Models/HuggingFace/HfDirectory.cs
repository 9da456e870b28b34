using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>
/// A Hugging Face model folder (config.json, safetensors weights, tokenizer files): finds the pieces, says clearly
/// which one is missing, and saves a model in the same layout. HookedTransformer.FromPretrained/SavePretrained sit on this.
/// </summary>
public sealed class HfDirectory
{
    public string Path { get; }
    public string ConfigPath => System.IO.Path.Combine(Path, "config.json");

    private HfDirectory(string path) => Path = path;

    /// <summary>Opens a folder that holds config.json and safetensors weights.</summary>
    public static HfDirectory Open(string path)
    {
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"Model folder not found: {path}");
        var dir = new HfDirectory(System.IO.Path.GetFullPath(path));
        if (!File.Exists(dir.ConfigPath)) throw new FileNotFoundException($"{path}: config.json is missing; it is needed to know the architecture.", dir.ConfigPath);
        _ = dir.SafetensorsFiles();
        return dir;
    }

    public ModelConfig ReadConfig() => HfConfigReader.Read(ConfigPath);

    public HfTokenizer LoadTokenizer() => HfTokenizer.Load(Path);

    /// <summary>The weight files: the index's shards, or model.safetensors, or the folder's only *.safetensors.</summary>
    public IReadOnlyList<string> SafetensorsFiles()
    {
        var index = System.IO.Path.Combine(Path, SafetensorsShards.IndexFileName);
        if (File.Exists(index)) return [index];
        var single = System.IO.Path.Combine(Path, SafetensorsShards.SingleFileName);
        if (File.Exists(single)) return [single];
        var any = Directory.GetFiles(Path, "*.safetensors").Order(StringComparer.Ordinal).ToList();
        if (any.Count == 1) return any;
        if (any.Count > 1)
            throw new FileNotFoundException($"{Path}: {any.Count} .safetensors files but no {SafetensorsShards.IndexFileName} to say which tensor lives where.");
        bool hasBin = Directory.GetFiles(Path, "*.bin").Length > 0 || Directory.GetFiles(Path, "*.pt").Length > 0;
        throw new FileNotFoundException($"{Path}: no safetensors weights found" + (hasBin
            ? " (only PyTorch pickle .bin/.pt files, which are not read; convert them with safetensors' convert script or save_pretrained(safe_serialization=True))."
            : "."));
    }

    public SafetensorsShards OpenWeights()
    {
        var file = SafetensorsFiles()[0];
        return file.EndsWith(".json") ? SafetensorsShards.OpenIndex(file) : SafetensorsShards.OpenSingle(file);
    }

    /// <summary>Loads all weights and converts them to TransformerLens names and layouts.</summary>
    public Dictionary<string, Tensor> LoadTransformerLensWeights(ModelConfig cfg, ScalarType? dtype = null, Device? device = null)
    {
        using var scope = NewDisposeScope();
        using var shards = OpenWeights();
        var hf = shards.LoadAll(dtype, device);
        var tl = HfWeightMap.ToTransformerLens(cfg, hf, string.Join(", ", shards.Files.Select(f => f.Path)));
        foreach (var t in tl.Values) t.MoveToOuterDisposeScope();
        return tl;
    }

    /// <summary>
    /// Writes config.json and HF-layout safetensors weights (sharded above <paramref name="maxShardBytes"/>) into
    /// <paramref name="path"/>. Tokenizer files are the caller's (e.g. <see cref="WordLevelTokenizerWriter"/>).
    /// </summary>
    public static HfDirectory Save(string path, ModelConfig cfg, IReadOnlyDictionary<string, Tensor> transformerLensWeights,
        long maxShardBytes = 2L << 30, int? bosTokenId = null, int? eosTokenId = null)
    {
        using var scope = NewDisposeScope();
        var hf = HfWeightMap.ToHuggingFace(cfg, transformerLensWeights);
        Directory.CreateDirectory(path);
        SafetensorsShards.Write(path, hf, maxShardBytes, new Dictionary<string, string> { ["format"] = "pt" });
        HfConfigWriter.Write(System.IO.Path.Combine(path, "config.json"), cfg, bosTokenId, eosTokenId);
        return Open(path);
    }
}
