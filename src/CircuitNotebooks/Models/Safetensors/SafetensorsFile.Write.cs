using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

public sealed partial class SafetensorsFile
{
    /// <summary>
    /// Writes <paramref name="tensors"/> as one safetensors file, atomically (temp file in the same folder, then
    /// rename), so a crash never leaves a half-written checkpoint under the final name.
    /// </summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        AtomicFile.Write(path, stream => WriteTo(stream, tensors, metadata));
    }

    /// <summary>Serialises to a stream: 8-byte LE header length, space-padded JSON header, then raw little-endian data.</summary>
    public static void WriteTo(Stream stream, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var order = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var header = BuildHeader(order, tensors, metadata);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
        stream.Write(len);
        stream.Write(header);
        foreach (var name in order) WriteData(stream, tensors[name]);
    }

    /// <summary>Bytes a tensor occupies in a safetensors data section.</summary>
    public static long ByteSize(Tensor t) => t.NumberOfElements * SafetensorsDTypes.SizeOf(SafetensorsDTypes.FromScalarType(t.dtype));

    private static byte[] BuildHeader(List<string> order, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var name in order)
            {
                var t = tensors[name];
                var dtype = SafetensorsDTypes.FromScalarType(t.dtype);
                long size = ByteSize(t);
                w.WriteStartObject(name);
                w.WriteString("dtype", dtype.ToString());
                w.WriteStartArray("shape");
                foreach (var d in t.shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + size);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += size;
            }
            w.WriteEndObject();
        }
        // Pad with spaces so the data section starts 8-byte aligned (as the reference writer does).
        int pad = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < pad; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static void WriteData(Stream stream, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var flat = tensor.detach().cpu().contiguous().view(-1);
        long perChunk = Math.Max(1, (1L << 30) / flat.ElementSize);
        for (long e0 = 0; e0 < flat.NumberOfElements; e0 += perChunk)
        {
            long n = Math.Min(perChunk, flat.NumberOfElements - e0);
            stream.Write(flat.narrow(0, e0, n).bytes);
        }
    }
}
