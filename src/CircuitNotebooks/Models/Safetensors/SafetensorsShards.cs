using CircuitNotebooks.Models;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>
/// A checkpoint split over several safetensors files, addressed through a Hugging Face
/// <c>model.safetensors.index.json</c> (<c>weight_map</c>: tensor name → shard file), or a single file.
/// </summary>
public sealed class SafetensorsShards : IDisposable
{
    public const string IndexFileName = "model.safetensors.index.json";
    public const string SingleFileName = "model.safetensors";

    private readonly Dictionary<string, SafetensorsFile> _byTensor;
    private readonly List<SafetensorsFile> _files;

    public IReadOnlyList<SafetensorsFile> Files => _files;
    public IEnumerable<string> Names => _byTensor.Keys;

    private SafetensorsShards(List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> byTensor)
    {
        _files = files;
        _byTensor = byTensor;
    }

    public static SafetensorsShards OpenSingle(string path)
    {
        var f = SafetensorsFile.Open(path);
        return new SafetensorsShards([f], f.Names.ToDictionary(n => n, _ => f, StringComparer.Ordinal));
    }

    /// <summary>Opens every shard named in the index and checks that each mapped tensor really is in its shard.</summary>
    public static SafetensorsShards OpenIndex(string indexPath)
    {
        if (!File.Exists(indexPath)) throw new FileNotFoundException($"Shard index not found: {indexPath}", indexPath);
        var weightMap = ReadWeightMap(indexPath);
        var dir = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var opened = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        var byTensor = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var (tensor, shard) in weightMap)
            {
                if (!opened.TryGetValue(shard, out var file))
                {
                    var shardPath = Path.Combine(dir, shard);
                    if (!File.Exists(shardPath))
                        throw new SafetensorsFormatException(indexPath, tensor, $"shard '{shard}' does not exist in {dir}");
                    opened[shard] = file = SafetensorsFile.Open(shardPath);
                }
                if (!file.Contains(tensor))
                    throw new SafetensorsFormatException(indexPath, tensor, $"weight_map says shard '{shard}' but that shard has no such tensor");
                byTensor[tensor] = file;
            }
        }
        catch
        {
            foreach (var f in opened.Values) f.Dispose();
            throw;
        }
        return new SafetensorsShards(opened.Values.ToList(), byTensor);
    }

    /// <summary>An HF shard index (safetensors or pytorch_model.bin): tensor name → shard file in the same folder.</summary>
    internal static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(indexPath)); }
        catch (JsonException e) { throw new SafetensorsFormatException(indexPath, null, $"not valid JSON: {e.Message}", e); }
        if (root is not JsonObject obj || obj["weight_map"] is not JsonObject map)
            throw new SafetensorsFormatException(indexPath, null, "missing object field 'weight_map'");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in map)
        {
            if (v is not JsonValue jv || !jv.TryGetValue<string>(out var s) || s.Contains('/') || s.Contains('\\') || s.Contains(".."))
                throw new SafetensorsFormatException(indexPath, k, "weight_map value must be a shard file name in the same folder");
            result[k] = s;
        }
        return result;
    }

    public bool Contains(string name) => _byTensor.ContainsKey(name);

    public Tensor Load(string name, ScalarType? dtype = null, Device? device = null) =>
        _byTensor.TryGetValue(name, out var f) ? f.Load(name, dtype, device)
            : throw new KeyNotFoundException($"no tensor named '{name}' in {string.Join(", ", _files.Select(x => x.Path))}");

    public Dictionary<string, Tensor> LoadAll(ScalarType? dtype = null, Device? device = null) =>
        _byTensor.Keys.ToDictionary(n => n, n => Load(n, dtype, device), StringComparer.Ordinal);

    /// <summary>
    /// Writes <paramref name="tensors"/> into <paramref name="directory"/>: one <c>model.safetensors</c> if it fits in
    /// <paramref name="maxShardBytes"/>, else <c>model-0000i-of-0000n.safetensors</c> shards plus the index. Tensors are
    /// never split; one larger than the limit gets a shard of its own. Returns the files written.
    /// </summary>
    public static IReadOnlyList<string> Write(string directory, IReadOnlyDictionary<string, Tensor> tensors,
        long maxShardBytes, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (maxShardBytes <= 0) throw new ArgumentOutOfRangeException(nameof(maxShardBytes), "must be positive");
        Directory.CreateDirectory(directory);
        var shards = new List<List<string>> { new() };
        long current = 0, total = 0;
        foreach (var name in tensors.Keys.OrderBy(k => k, StringComparer.Ordinal))
        {
            long size = SafetensorsFile.ByteSize(tensors[name]);
            if (current > 0 && current + size > maxShardBytes) { shards.Add([]); current = 0; }
            shards[^1].Add(name);
            current += size;
            total += size;
        }
        if (shards.Count == 1)
        {
            var single = Path.Combine(directory, SingleFileName);
            SafetensorsFile.Write(single, tensors, metadata);
            return [single];
        }
        var written = new List<string>();
        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            var file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            var path = Path.Combine(directory, file);
            SafetensorsFile.Write(path, shards[i].ToDictionary(n => n, n => tensors[n]), metadata);
            foreach (var n in shards[i]) weightMap[n] = file;
            written.Add(path);
        }
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = total },
            ["weight_map"] = weightMap,
        };
        var indexPath = Path.Combine(directory, IndexFileName);
        AtomicFile.WriteAllText(indexPath, index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        written.Add(indexPath);
        return written;
    }

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
    }
}
