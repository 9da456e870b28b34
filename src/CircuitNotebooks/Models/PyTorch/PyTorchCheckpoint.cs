using System.IO.Compression;
using System.Text;
using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>
/// Reads Hugging Face <c>pytorch_model.bin</c> checkpoints (torch.save's zip format: &lt;root&gt;/data.pkl plus one
/// &lt;root&gt;/data/&lt;key&gt; entry per storage) into tensors, through <see cref="RestrictedUnpickler"/> so that
/// no pickled code can run. The pre-1.6 non-zip format is refused.
/// </summary>
public static class PyTorchCheckpoint
{
    public const string SingleFileName = "pytorch_model.bin";
    public const string IndexFileName = "pytorch_model.bin.index.json";

    /// <summary>All tensors of a single file or, for an index, of all its shards.</summary>
    public static Dictionary<string, Tensor> Load(string path, ScalarType? dtype = null, Device? device = null)
    {
        if (!path.EndsWith(".json", StringComparison.Ordinal)) return LoadFile(path, dtype, device);
        using var scope = NewDisposeScope();
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var group in SafetensorsShards.ReadWeightMap(path).GroupBy(kv => kv.Value, kv => kv.Key))
        {
            var shard = group.Key;
            var loaded = LoadFile(Path.Combine(dir, shard), dtype, device);
            foreach (var name in group)
                result[name] = loaded.TryGetValue(name, out var t) ? t
                    : throw new InvalidDataException($"{path}: weight_map puts '{name}' in '{shard}', which has no such tensor.");
        }
        foreach (var t in result.Values) t.MoveToOuterDisposeScope();
        return result;
    }

    private static Dictionary<string, Tensor> LoadFile(string path, ScalarType? dtype, Device? device)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"PyTorch checkpoint not found: {path}", path);
        using var scope = NewDisposeScope();
        using var zip = OpenZip(path);
        var pkl = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)).ToList();
        if (pkl.Count != 1) throw new InvalidDataException($"{path}: expected one <root>/data.pkl entry in the archive, found {pkl.Count}.");
        var root = pkl[0].FullName[..^"data.pkl".Length];
        if (zip.GetEntry(root + "byteorder") is { } order && Encoding.ASCII.GetString(ReadEntry(order)).Trim() != "little")
            throw new InvalidDataException($"{path}: the checkpoint was saved big-endian; only little-endian storages are read.");
        var state = RestrictedUnpickler.Load(ReadEntry(pkl[0]), path) as PickleDict
            ?? throw new InvalidDataException($"{path}: the pickle is not a state dict (a mapping of names to tensors).");
        var storages = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in state.Items)
        {
            if (key is not string name || value is not TensorRef tr)
                throw new InvalidDataException($"{path}: entry '{key}' is not a tensor; only flat state dicts (name → tensor) are read.");
            if (!storages.TryGetValue(tr.Storage.Key, out var storage))
                storages[tr.Storage.Key] = storage = ReadStorage(zip, root, tr.Storage, path);
            var t = View(storage, tr, name, path);
            if (dtype is { } dt && dt != t.dtype && t.is_floating_point()) t = t.to_type(dt);
            if (device is not null && device.type != TorchSharp.DeviceType.CPU) t = t.to(device);
            result[name] = t;
        }
        foreach (var t in result.Values) t.MoveToOuterDisposeScope();
        return result;
    }

    private static ZipArchive OpenZip(string path)
    {
        try { return ZipFile.OpenRead(path); }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: not a zip-format PyTorch checkpoint (torch.save since 1.6); the legacy format is not read. Re-save it or convert it to safetensors.", e);
        }
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry)
    {
        using var s = entry.Open();
        using var ms = new MemoryStream(checked((int)entry.Length));
        s.CopyTo(ms);
        return ms.ToArray();
    }

    private static ScalarType DType(string kind, string path) => kind switch
    {
        "FloatStorage" => ScalarType.Float32,
        "DoubleStorage" => ScalarType.Float64,
        "HalfStorage" => ScalarType.Float16,
        "BFloat16Storage" => ScalarType.BFloat16,
        "LongStorage" => ScalarType.Int64,
        "IntStorage" => ScalarType.Int32,
        "ShortStorage" => ScalarType.Int16,
        "CharStorage" => ScalarType.Int8,
        "ByteStorage" => ScalarType.Byte,
        "BoolStorage" => ScalarType.Bool,
        _ => throw new InvalidDataException($"{path}: storage type '{kind}' is not supported."),
    };

    private static Tensor ReadStorage(ZipArchive zip, string root, StorageRef s, string path)
    {
        var entry = zip.GetEntry($"{root}data/{s.Key}") ?? throw new InvalidDataException($"{path}: storage '{s.Key}' has no {root}data/{s.Key} entry.");
        var t = empty(s.NumElements, DType(s.Kind, path));
        if (entry.Length != s.NumElements * t.ElementSize)
            throw new InvalidDataException($"{path}: storage '{s.Key}' holds {entry.Length} bytes, expected {s.NumElements} × {t.ElementSize}.");
        using var stream = entry.Open();
        stream.ReadExactly(t.bytes);
        return t;
    }

    /// <summary>The strided view torch would rebuild, bounds-checked against the storage, as a contiguous tensor.</summary>
    private static Tensor View(Tensor storage, TensorRef r, string name, string path)
    {
        if (r.Size.Length != r.Stride.Length || r.Offset < 0 || r.Size.Any(n => n < 0) || r.Stride.Any(n => n < 0))
            throw new InvalidDataException($"{path}: tensor '{name}' has an invalid size/stride/offset.");
        long last = r.Size.Any(n => n == 0) ? r.Offset - 1 : r.Offset + r.Size.Zip(r.Stride, (n, st) => (n - 1) * st).Sum();
        if (last >= storage.NumberOfElements)
            throw new InvalidDataException($"{path}: tensor '{name}' of shape [{string.Join(", ", r.Size)}] reaches element {last} of a {storage.NumberOfElements}-element storage.");
        return storage.as_strided(r.Size, r.Stride, r.Offset).contiguous();
    }
}
