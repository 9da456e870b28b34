using System.Buffers.Binary;
using System.Text;
using CircuitNotebooks.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Models;

public sealed class SafetensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("st-tests-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    /// <summary>Tensor whose raw little-endian storage is exactly <paramref name="raw"/>.</summary>
    private static Tensor FromRaw(byte[] raw, ScalarType dtype, long[] shape)
    {
        var t = empty(shape, dtype);
        raw.CopyTo(t.bytes);
        return t;
    }

    [Fact]
    public void TwoElementF32FileHasHandComputedBytes()
    {
        using var scope = NewDisposeScope();
        var path = P("two.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["a"] = tensor(new float[] { 1f, -2f }) });

        var json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"; // 54 bytes → 2 spaces pad the header to 56
        Assert.Equal(54, json.Length);
        var expected = new List<byte> { 56, 0, 0, 0, 0, 0, 0, 0 };
        expected.AddRange(Encoding.ASCII.GetBytes(json + "  "));
        expected.AddRange(new byte[] { 0x00, 0x00, 0x80, 0x3F }); // 1.0f  = 0x3F800000
        expected.AddRange(new byte[] { 0x00, 0x00, 0x00, 0xC0 }); // -2.0f = 0xC0000000
        Assert.Equal(expected.ToArray(), File.ReadAllBytes(path));
    }

    [Fact]
    public void ReadsHandBuiltFileWithMetadataAndTwoDtypes()
    {
        using var scope = NewDisposeScope();
        // b: I64 [2] = {3, -1}; h: F16 [1,2] = {1.0 (0x3C00), -0.5 (0xB800)}. Offsets by hand: h 0..4, b 4..20.
        var json = "{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[4,20]}," +
                   "\"h\":{\"dtype\":\"F16\",\"shape\":[1,2],\"data_offsets\":[0,4]}}";
        var bytes = new List<byte>();
        var len = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)json.Length);
        bytes.AddRange(len);
        bytes.AddRange(Encoding.ASCII.GetBytes(json));
        bytes.AddRange(new byte[] { 0x00, 0x3C, 0x00, 0xB8 });
        bytes.AddRange(new byte[] { 3, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF });
        File.WriteAllBytes(P("hand.safetensors"), bytes.ToArray());

        using var f = SafetensorsFile.Open(P("hand.safetensors"));
        Assert.Equal("pt", f.Metadata["format"]);
        var b = f.Load("b");
        Assert.Equal(ScalarType.Int64, b.dtype);
        Assert.Equal(new long[] { 3, -1 }, b.data<long>().ToArray());
        var h = f.Load("h");
        Assert.Equal(ScalarType.Float16, h.dtype);
        Assert.Equal(new long[] { 1, 2 }, h.shape);
        Assert.Equal(new float[] { 1f, -0.5f }, f.Load("h", ScalarType.Float32).data<float>().ToArray());
    }

    public static TheoryData<ScalarType, int> Dtypes => new()
    {
        { ScalarType.Float32, 4 }, { ScalarType.Float64, 8 }, { ScalarType.Float16, 2 }, { ScalarType.BFloat16, 2 },
        { ScalarType.Int64, 8 }, { ScalarType.Int32, 4 }, { ScalarType.Byte, 1 }, { ScalarType.Bool, 1 },
    };

    [Theory]
    [MemberData(nameof(Dtypes))]
    public void RoundTripIsBitExactForEachDtype(ScalarType dtype, int size)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(17 + (int)dtype);
        long[] shape = [3, 5];
        var raw = new byte[15 * size];
        rng.NextBytes(raw);
        if (dtype == ScalarType.Bool) for (int i = 0; i < raw.Length; i++) raw[i] &= 1;
        var t = FromRaw(raw, dtype, shape);
        var path = P($"rt-{dtype}.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["w"] = t, ["z"] = zeros(0) }, new Dictionary<string, string> { ["k"] = "v" });

        var file = File.ReadAllBytes(path);
        long headerLen = BinaryPrimitives.ReadInt64LittleEndian(file);
        Assert.Equal(0, (8 + headerLen) % 8);
        Assert.Equal(raw, file.AsSpan((int)(8 + headerLen), raw.Length).ToArray()); // raw data lands verbatim

        using var f = SafetensorsFile.Open(path);
        Assert.Equal("v", f.Metadata["k"]);
        var back = f.Load("w");
        Assert.Equal(dtype, back.dtype);
        Assert.Equal(shape, back.shape);
        Assert.Equal(raw, back.bytes.ToArray());
        Assert.Equal(0, f.Load("z").NumberOfElements);
    }

    [Fact]
    public void HalfPrecisionValuesMatchIndependentDecoding()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(5);
        var bits16 = Enumerable.Range(0, 64).Select(_ => (ushort)rng.Next(0, 0x7C00)).ToArray(); // finite, positive
        var raw = bits16.SelectMany(b => BitConverter.GetBytes(b)).ToArray();
        SafetensorsFile.Write(P("h.safetensors"), new Dictionary<string, Tensor>
        {
            ["f16"] = FromRaw(raw, ScalarType.Float16, [64]),
            ["bf16"] = FromRaw(raw, ScalarType.BFloat16, [64]),
        });
        using var f = SafetensorsFile.Open(P("h.safetensors"));
        var f16 = f.Load("f16", ScalarType.Float32).data<float>().ToArray();
        var bf16 = f.Load("bf16", ScalarType.Float64).data<double>().ToArray();
        for (int i = 0; i < 64; i++)
        {
            Assert.Equal((float)BitConverter.UInt16BitsToHalf(bits16[i]), f16[i]);
            Assert.Equal((double)BitConverter.Int32BitsToSingle(bits16[i] << 16), bf16[i]);
        }
    }

    [Fact]
    public void ShardedWriteAndIndexedReadRoundTrip()
    {
        using var scope = NewDisposeScope();
        var tensors = Enumerable.Range(0, 5).ToDictionary(i => $"t{i}", i => arange(10 * (i + 1), dtype: ScalarType.Float32) + i);
        var dir = P("sharded");
        var written = SafetensorsShards.Write(dir, tensors, maxShardBytes: 100);
        Assert.Contains(written, w => w.EndsWith(SafetensorsShards.IndexFileName));
        Assert.True(written.Count > 2);
        using var shards = SafetensorsShards.OpenIndex(Path.Combine(dir, SafetensorsShards.IndexFileName));
        Assert.Equal(tensors.Keys.Order(), shards.Names.Order());
        foreach (var (name, t) in tensors)
        {
            var expected = t.data<float>().ToArray();
            Assert.Equal(expected, shards.Load(name).data<float>().ToArray());
        }
        var single = SafetensorsShards.Write(P("single"), tensors, maxShardBytes: 1 << 20);
        Assert.Equal([Path.Combine(P("single"), "model.safetensors")], single);
    }

    [Fact]
    public void IndexNamingMissingShardOrTensorIsRejected()
    {
        using var scope = NewDisposeScope();
        SafetensorsFile.Write(P("s1.safetensors"), new Dictionary<string, Tensor> { ["a"] = ones(2) });
        File.WriteAllText(P("i1.json"), "{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"nope.safetensors\"}}");
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsShards.OpenIndex(P("i1.json")));
        Assert.Contains("nope.safetensors", e.Message);
        Assert.Contains("'b'", e.Message);
        File.WriteAllText(P("i2.json"), "{\"weight_map\":{\"c\":\"s1.safetensors\"}}");
        e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsShards.OpenIndex(P("i2.json")));
        Assert.Contains("'c'", e.Message);
    }

    private static byte[] FileWith(string json, int dataBytes, long? declaredLength = null)
    {
        var j = Encoding.UTF8.GetBytes(json);
        var b = new byte[8 + j.Length + dataBytes];
        BinaryPrimitives.WriteInt64LittleEndian(b, declaredLength ?? j.Length);
        j.CopyTo(b, 8);
        return b;
    }

    public static TheoryData<string, int, long?, string?, string> Malformed => new()
    {
        { "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 10_000, null, "past the end" },
        { "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, null, "x", "truncated" },
        { "{\"x\":{\"dtype\":\"F31\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, null, "x", "unknown dtype 'F31'" },
        { "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, null, "x", "12 bytes" },
        { "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, null, "y", "overlap" },
        { "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, null, "x", "gap" },
        { "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, null, null, "cover 8 bytes" },
        { "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]", 8, null, null, "not valid JSON" },
        { "{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, null, "x", "non-negative" },
        { "{\"x\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, null, "x", "data_offsets" },
        { "{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, null, "x", "too large" },
        { "[1,2]", 0, null, null, "not a JSON object" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedFilesRaiseFormatErrorNamingFileAndTensor(string json, int data, long? declared, string? tensor, string fragment)
    {
        var path = P("bad.safetensors");
        File.WriteAllBytes(path, FileWith(json, data, declared));
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(fragment, e.Message);
        Assert.Equal(tensor, e.TensorName);
        if (tensor is not null) Assert.Contains($"'{tensor}'", e.Message);
    }

    [Fact]
    public void TooShortFileIsRejected()
    {
        File.WriteAllBytes(P("short.safetensors"), [1, 2, 3]);
        Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(P("short.safetensors")));
    }
}
