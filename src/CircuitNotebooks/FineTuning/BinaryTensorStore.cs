using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.FineTuning;

/// <summary>
/// A minimal self-describing tensor file until the safetensors store is merged: magic "CNTS1", metadata pairs, then
/// per tensor name, dtype, shape and little-endian raw bytes. Written to a temp file and renamed into place.
/// </summary>
public sealed class BinaryTensorStore : ITensorStore
{
    private const string Magic = "CNTS1";

    public void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? meta)
    {
        string tmp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var stream = File.Create(tmp))
            using (var w = new BinaryWriter(stream, Encoding.UTF8))
            {
                w.Write(Magic);
                w.Write(meta?.Count ?? 0);
                foreach (var (k, v) in meta ?? new Dictionary<string, string>()) { w.Write(k); w.Write(v); }
                w.Write(tensors.Count);
                foreach (var (name, t) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    using var c = t.detach().to(CPU).contiguous();
                    w.Write(name);
                    w.Write((int)c.dtype);
                    w.Write(c.dim());
                    foreach (var s in c.shape) w.Write(s);
                    var bytes = c.bytes;
                    w.Write((long)bytes.Length);
                    w.Write(bytes);
                }
                w.Flush();
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            if (File.Exists(tmp)) File.Delete(tmp);
            throw;
        }
    }

    public Dictionary<string, Tensor> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Tensor file '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        using var r = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            if (r.ReadString() != Magic) throw new InvalidDataException($"'{path}' is not a CircuitNotebooks tensor file (bad magic).");
            int nMeta = r.ReadInt32();
            for (int i = 0; i < nMeta; i++) { r.ReadString(); r.ReadString(); }
            int n = r.ReadInt32();
            var result = new Dictionary<string, Tensor>(n);
            for (int i = 0; i < n; i++)
            {
                string name = r.ReadString();
                var dtype = (ScalarType)r.ReadInt32();
                long ndim = r.ReadInt64();
                var shape = new long[ndim];
                for (int d = 0; d < ndim; d++) shape[d] = r.ReadInt64();
                long len = r.ReadInt64();
                var t = empty(shape, dtype: dtype).DetachFromDisposeScope();
                if (len != t.NumberOfElements * t.ElementSize)
                    throw new InvalidDataException($"'{path}': tensor '{name}' has {len} bytes, expected {t.NumberOfElements * t.ElementSize}.");
                t.bytes = r.ReadBytes(checked((int)len));
                result[name] = t;
            }
            return result;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"'{path}' is truncated.", e);
        }
    }

    /// <summary>The metadata pairs of a file without reading its tensors.</summary>
    public static Dictionary<string, string> ReadMeta(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        if (r.ReadString() != Magic) throw new InvalidDataException($"'{path}' is not a CircuitNotebooks tensor file (bad magic).");
        int n = r.ReadInt32();
        var meta = new Dictionary<string, string>(n);
        for (int i = 0; i < n; i++) meta[r.ReadString()] = r.ReadString();
        return meta;
    }
}
