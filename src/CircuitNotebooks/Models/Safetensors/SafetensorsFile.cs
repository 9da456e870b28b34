using System.IO.MemoryMappedFiles;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>
/// A safetensors file opened for reading. The file is memory-mapped, so opening is cheap and each tensor is copied
/// straight from the page cache into a TorchSharp tensor when asked for.
/// </summary>
public sealed partial class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;

    public string Path { get; }
    public SafetensorsHeader Header { get; }
    public IReadOnlyDictionary<string, string> Metadata => Header.Metadata;
    public IEnumerable<string> Names => Header.Tensors.Keys;

    private SafetensorsFile(string path, SafetensorsHeader header, MemoryMappedFile map, MemoryMappedViewAccessor view)
    {
        Path = path;
        Header = header;
        _map = map;
        _view = view;
    }

    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Safetensors file not found: {path}", path);
        SafetensorsHeader header;
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
            header = SafetensorsHeader.Read(fs, path);
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            return new SafetensorsFile(path, header, map, view);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => Header.Tensors.ContainsKey(name);

    public SafetensorsTensorInfo Info(string name) =>
        Header.Tensors.TryGetValue(name, out var info) ? info
            : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    /// <summary>Loads one tensor, optionally converted to <paramref name="dtype"/> and moved to <paramref name="device"/>.</summary>
    public Tensor Load(string name, ScalarType? dtype = null, Device? device = null)
    {
        var info = Info(name);
        using var scope = NewDisposeScope();
        var t = empty(info.Shape, SafetensorsDTypes.ToScalarType(info.DType));
        CopyInto(t, Header.DataStart + info.Begin, info.ByteLength);
        if (dtype is { } dt && dt != t.dtype) t = t.to_type(dt);
        if (device is not null && device.type != DeviceType.CPU) t = t.to(device);
        return t.MoveToOuterDisposeScope();
    }

    public Dictionary<string, Tensor> LoadAll(ScalarType? dtype = null, Device? device = null)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in Names) result[name] = Load(name, dtype, device);
        return result;
    }

    private unsafe void CopyInto(Tensor t, long fileOffset, long byteLength)
    {
        if (byteLength == 0) return;
        byte* basePtr = null;
        var handle = _view.SafeMemoryMappedViewHandle;
        handle.AcquirePointer(ref basePtr);
        try
        {
            byte* src = basePtr + _view.PointerOffset + fileOffset;
            // Span lengths are int: copy tensors above 2 GiB through flat views of at most 1 GiB.
            const long chunk = 1L << 30;
            using var flat = t.view(-1);
            long elemSize = t.ElementSize;
            long perChunk = chunk / elemSize;
            for (long e0 = 0; e0 < t.NumberOfElements; e0 += perChunk)
            {
                long n = Math.Min(perChunk, t.NumberOfElements - e0);
                using var part = flat.narrow(0, e0, n);
                new ReadOnlySpan<byte>(src + e0 * elemSize, checked((int)(n * elemSize))).CopyTo(part.bytes);
            }
        }
        finally
        {
            handle.ReleasePointer();
        }
    }

    public void Dispose()
    {
        _view.Dispose();
        _map.Dispose();
    }
}
