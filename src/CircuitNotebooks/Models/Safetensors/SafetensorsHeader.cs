using System.Buffers.Binary;
using System.Text.Json;

namespace CircuitNotebooks.Models;

/// <summary>
/// The parsed, validated header of a safetensors file: every tensor's dtype, shape and byte range, plus the optional
/// string metadata. Validation follows the reference implementation: the byte ranges must tile the data section
/// exactly (sorted, contiguous, no overlap, nothing left over), so a truncated or tampered file is caught before any
/// tensor is read.
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>Same cap as the reference reader: a header larger than this is a corrupt length prefix.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public IReadOnlyDictionary<string, SafetensorsTensorInfo> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>Absolute file offset of the data section.</summary>
    public long DataStart { get; }

    private SafetensorsHeader(Dictionary<string, SafetensorsTensorInfo> tensors, Dictionary<string, string> metadata, long dataStart)
    {
        Tensors = tensors;
        Metadata = metadata;
        DataStart = dataStart;
    }

    /// <summary>Reads and validates the header from the start of <paramref name="stream"/> (whose Length is the file size).</summary>
    public static SafetensorsHeader Read(Stream stream, string fileName)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw new SafetensorsFormatException(fileName, null, $"file is {fileLength} bytes, shorter than the 8-byte header length prefix");
        Span<byte> prefix = stackalloc byte[8];
        stream.Position = 0;
        stream.ReadExactly(prefix);
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLen > MaxHeaderBytes)
            throw new SafetensorsFormatException(fileName, null, $"header length {headerLen} exceeds the {MaxHeaderBytes}-byte limit");
        if ((long)headerLen > fileLength - 8)
            throw new SafetensorsFormatException(fileName, null, $"header length {headerLen} runs past the end of the file ({fileLength} bytes)");
        var json = new byte[headerLen];
        stream.ReadExactly(json);
        return Parse(json, fileLength - 8 - (long)headerLen, 8 + (long)headerLen, fileName);
    }

    /// <summary>Validates header JSON against a data section of <paramref name="dataLength"/> bytes.</summary>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, long dataLength, long dataStart, string fileName)
    {
        if (json.Length == 0 || json[0] != (byte)'{')
            throw new SafetensorsFormatException(fileName, null, "header is not a JSON object (must start with '{')");
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8 });
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(fileName, null, $"header is not valid JSON: {e.Message}", e);
        }
        using (doc)
        try
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException(fileName, null, "header is not a JSON object");
            var tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var prop in root.EnumerateObject())
            {
                if (prop.Name == "__metadata__") { ReadMetadata(prop.Value, metadata, fileName); continue; }
                if (tensors.ContainsKey(prop.Name))
                    throw new SafetensorsFormatException(fileName, prop.Name, "appears twice in the header");
                tensors[prop.Name] = ReadEntry(prop.Name, prop.Value, fileName);
            }
            CheckTiling(tensors.Values, dataLength, fileName);
            return new SafetensorsHeader(tensors, metadata, dataStart);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            // Invalid UTF-8 inside a string only surfaces when the string is decoded.
            throw new SafetensorsFormatException(fileName, null, $"header JSON is malformed: {e.Message}", e);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> into, string file)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException(file, null, "__metadata__ must be an object of strings");
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
                throw new SafetensorsFormatException(file, null, $"__metadata__ value '{m.Name}' is not a string");
            into[m.Name] = m.Value.GetString()!;
        }
    }

    private static SafetensorsTensorInfo ReadEntry(string name, JsonElement e, string file)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException(file, name, "entry is not an object with dtype, shape and data_offsets");
        if (!e.TryGetProperty("dtype", out var dtEl) || dtEl.ValueKind != JsonValueKind.String)
            throw new SafetensorsFormatException(file, name, "missing string field 'dtype'");
        var dtText = dtEl.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtText, out var dtype))
            throw new SafetensorsFormatException(file, name,
                $"unknown dtype '{dtText}' (supported: {string.Join(", ", Enum.GetNames<SafetensorsDType>())})");
        var shape = ReadLongArray(e, "shape", name, file);
        var offsets = ReadLongArray(e, "data_offsets", name, file);
        if (offsets.Length != 2)
            throw new SafetensorsFormatException(file, name, $"data_offsets must have 2 entries (got {offsets.Length})");
        if (offsets[1] < offsets[0])
            throw new SafetensorsFormatException(file, name, $"data_offsets [{offsets[0]}, {offsets[1]}] end before they begin");
        long expected;
        try
        {
            expected = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * SafetensorsDTypes.SizeOf(dtype));
        }
        catch (OverflowException)
        {
            throw new SafetensorsFormatException(file, name, $"shape [{string.Join(", ", shape)}] is too large");
        }
        if (expected != offsets[1] - offsets[0])
            throw new SafetensorsFormatException(file, name,
                $"shape [{string.Join(", ", shape)}] × {dtype} ({SafetensorsDTypes.SizeOf(dtype)} bytes) = {expected} bytes, " +
                $"but data_offsets [{offsets[0]}, {offsets[1]}] span {offsets[1] - offsets[0]}");
        return new SafetensorsTensorInfo(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadLongArray(JsonElement e, string field, string name, string file)
    {
        if (!e.TryGetProperty(field, out var arr) || arr.ValueKind != JsonValueKind.Array)
            throw new SafetensorsFormatException(file, name, $"missing array field '{field}'");
        var result = new long[arr.GetArrayLength()];
        int i = 0;
        foreach (var v in arr.EnumerateArray())
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var x) || x < 0)
                throw new SafetensorsFormatException(file, name, $"'{field}' must hold non-negative integers (got {v.GetRawText()})");
            result[i++] = x;
        }
        return result;
    }

    private static void CheckTiling(IEnumerable<SafetensorsTensorInfo> infos, long dataLength, string file)
    {
        long cursor = 0;
        foreach (var t in infos.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.Begin < cursor)
                throw new SafetensorsFormatException(file, t.Name, $"data_offsets [{t.Begin}, {t.End}] overlap the previous tensor (ends at {cursor})");
            if (t.Begin > cursor)
                throw new SafetensorsFormatException(file, t.Name, $"data_offsets [{t.Begin}, {t.End}] leave a gap after byte {cursor}");
            if (t.End > dataLength)
                throw new SafetensorsFormatException(file, t.Name,
                    $"data_offsets [{t.Begin}, {t.End}] run past the data section ({dataLength} bytes); the file may be truncated");
            cursor = t.End;
        }
        if (cursor != dataLength)
            throw new SafetensorsFormatException(file, null, $"tensors cover {cursor} bytes but the data section holds {dataLength}");
    }
}
