using System.IO.Compression;
using System.Text.Json;
using CircuitNotebooks.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Models;

/// <summary>
/// pytorch_model.bin checkpoints written by CPython's pickler in torch.save's layout (Fixtures/pytorch/generate.py).
/// Every weight there is value(k, i) = ((31k + i) mod 19 − 9) / 32 for tensor k, flat index i: exact in all float types.
/// </summary>
public sealed class PyTorchCheckpointTests : IDisposable
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch", name);
    private static double Value(int k, long i) => ((31 * k + i) % 19 - 9) / 32.0;
    private readonly string _dir = Directory.CreateTempSubdirectory("pt-ckpt-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static double[] Data(Tensor t) => t.to_type(ScalarType.Float64).data<double>().ToArray();

    [Fact]
    public void StoragesViewsAndDtypesAreRebuiltExactly()
    {
        using var scope = NewDisposeScope();
        var sd = PyTorchCheckpoint.Load(Fixture("layouts.bin"));
        Assert.Equal(["a", "b_offset", "c_transposed", "d_bf16", "e_f16", "f_int64", "g_param"], sd.Keys.Order());
        Assert.Equal(new long[] { 2, 3 }, sd["a"].shape);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => Value(0, i)), Data(sd["a"]));
        Assert.Equal(Enumerable.Range(6, 4).Select(i => Value(0, i)), Data(sd["b_offset"]));
        // Shape [3, 2] with stride [1, 3] from offset 10: element [i, j] is storage[10 + i + 3j].
        Assert.Equal(new long[] { 3, 2 }, sd["c_transposed"].shape);
        Assert.Equal(from i in Enumerable.Range(0, 3) from j in Enumerable.Range(0, 2) select Value(0, 10 + i + 3 * j), Data(sd["c_transposed"]));
        Assert.Equal(ScalarType.BFloat16, sd["d_bf16"].dtype);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => Value(1, i)), Data(sd["d_bf16"]));
        Assert.Equal(ScalarType.Float16, sd["e_f16"].dtype);
        Assert.Equal(Enumerable.Range(1, 3).Select(i => Value(2, i)), Data(sd["e_f16"]));
        Assert.Equal(new long[] { -3, 0, 7, 1L << 40 }, sd["f_int64"].data<long>().ToArray());
        Assert.Equal(Enumerable.Range(2, 4).Select(i => Value(1, i)), Data(sd["g_param"])); // nn.Parameter wrapper
    }

    [Fact]
    public void ModelFolderWithPytorchModelBinLoadsWithTheRightWeightsAndRuns()
    {
        using var scope = NewDisposeScope();
        var dir = Fixture("tiny-llama-bin");
        var shapes = JsonSerializer.Deserialize<List<JsonElement>>(File.ReadAllText(Path.Combine(dir, "shapes.json")))!;
        var hf = new Dictionary<string, Tensor>();
        for (int k = 0; k < shapes.Count; k++)
        {
            var shape = shapes[k][1].EnumerateArray().Select(x => x.GetInt64()).ToArray();
            long n = shape.Aggregate(1L, (a, b) => a * b);
            hf[shapes[k][0].GetString()!] = tensor(Enumerable.Range(0, (int)n).Select(i => (float)Value(k, i)).ToArray(), shape);
        }
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var model = HookedTransformer.FromPretrained(dir, dtype: dtype);
            Assert.Equal((2, 8, 2, 1, 11), (model.Config.NLayers, model.Config.DModel, model.Config.NHeads, model.Config.KvHeads, model.Config.DVocab));
            var expected = HfWeightMap.ToTransformerLens(model.Config, hf);
            var actual = model.StateDict();
            foreach (var (name, t) in expected)
                Assert.True(t.to_type(dtype).eq(actual[name]).all().item<bool>(), $"{dtype}: '{name}' differs from the values generate.py wrote");
            using var reference = new HookedTransformer(model.Config, dtype: dtype);
            reference.LoadStateDict(expected);
            using var tokens = tensor(new long[] { 1, 5, 3, 9, 10 }, [1, 5]);
            Assert.True(model.Forward(tokens).eq(reference.Forward(tokens)).all().item<bool>(), $"{dtype}: logits differ");
        }
    }

    [Fact]
    public void MaliciousPickleIsRefusedNamingTheFileAndRunsNothing()
    {
        const string marker = "/tmp/circuitnotebooks-pickle-was-executed";
        File.Delete(marker);
        var e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(Fixture("malicious.bin")));
        Assert.Contains(Fixture("malicious.bin"), e.Message);
        Assert.Contains("'os.system'", e.Message);
        Assert.Contains("nothing was executed", e.Message);

        // Through the model loader too: a folder whose pytorch_model.bin is that pickle.
        var dir = Path.Combine(_dir, "evil");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(Fixture("tiny-llama-bin"), "config.json"), Path.Combine(dir, "config.json"));
        File.Copy(Fixture("malicious.bin"), Path.Combine(dir, "pytorch_model.bin"));
        e = Assert.Throws<InvalidDataException>(() => HookedTransformer.FromPretrained(dir));
        Assert.Contains(Path.Combine(dir, "pytorch_model.bin"), e.Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void LegacyOrDamagedCheckpointsAreClearErrors()
    {
        var legacy = Path.Combine(_dir, "legacy.bin");
        File.WriteAllBytes(legacy, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
        var e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(legacy));
        Assert.Contains(legacy, e.Message);
        Assert.Contains("legacy format", e.Message);

        // Same archive with one storage cut short.
        var cut = Path.Combine(_dir, "cut.bin");
        File.Copy(Fixture("layouts.bin"), cut);
        using (var zip = ZipFile.Open(cut, ZipArchiveMode.Update))
        {
            zip.GetEntry("archive/data/h")!.Delete();
            using var s = zip.CreateEntry("archive/data/h").Open();
            s.Write(new byte[6]);
        }
        e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(cut));
        Assert.Contains("storage 'h' holds 6 bytes, expected 4 × 2", e.Message);

        var big = Path.Combine(_dir, "big.bin");
        File.Copy(Fixture("layouts.bin"), big);
        using (var zip = ZipFile.Open(big, ZipArchiveMode.Update))
        {
            zip.GetEntry("archive/byteorder")!.Delete();
            using var w = new StreamWriter(zip.CreateEntry("archive/byteorder").Open());
            w.Write("big");
        }
        e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(big));
        Assert.Contains("big-endian", e.Message);
    }
}
