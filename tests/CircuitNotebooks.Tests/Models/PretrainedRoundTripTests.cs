using CircuitNotebooks.Models;
using CircuitNotebooks.Tests.Reference;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Models;

public class PretrainedRoundTripTests
{
    public static IEnumerable<object[]> Cases =>
        from name in new[] { "Gpt2", "NeoX", "Llama", "LlamaGqa", "Qwen2", "Mistral" }
        from dt in new[] { "f32", "f16", "bf16" }
        select new object[] { name, dt };

    private static ScalarType Dt(string s) => s switch { "f16" => ScalarType.Float16, "bf16" => ScalarType.BFloat16, _ => ScalarType.Float32 };

    [Theory, MemberData(nameof(Cases))]
    public void SaveThenLoadGivesTheSameWeights(string name, string dt)
    {
        var cfg = TinyConfigs.ByName(name);
        var dir = Directory.CreateTempSubdirectory("cn-rt-").FullName;
        try
        {
            using var scope = NewDisposeScope();
            // HF layouts cannot express an unembedding bias, so it is zero here.
            var w = NaiveWeights.Random(cfg, seed: 3, scale: 0.2);
            using var model = new HookedTransformer(cfg, dtype: Dt(dt));
            var tensors = w.ToFloatTensors();
            tensors["unembed.b_U"] = zeros(cfg.DVocab); // HF causal LMs have no unembedding bias
            model.LoadStateDict(tensors);
            model.SavePretrained(dir, maxShardBytes: name == "NeoX" ? 4096 : 2L << 30);
            if (name == "NeoX") Assert.True(File.Exists(Path.Combine(dir, "model.safetensors.index.json")));
            using var back = HookedTransformer.FromPretrained(dir, dtype: Dt(dt));
            Assert.Equal(cfg.Fingerprint, back.Config.Fingerprint);
            Assert.Equal(cfg with { NKeyValueHeads = cfg.KvHeads }, back.Config with { NKeyValueHeads = back.Config.KvHeads });
            var expected = model.StateDict();
            var actual = back.StateDict();
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            foreach (var k in expected.Keys)
            {
                Assert.Equal(Dt(dt), actual[k].dtype);
                Assert.True(expected[k].eq(actual[k]).all().item<bool>(), $"{name}/{dt}: '{k}' changed in the round trip");
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MissingConfigIsAClearError()
    {
        var dir = Directory.CreateTempSubdirectory("cn-bad-").FullName;
        try
        {
            var ex = Assert.Throws<FileNotFoundException>(() => HookedTransformer.FromPretrained(dir));
            Assert.Contains("config.json", ex.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
