using System.Text.Json.Nodes;
using CircuitNotebooks.Models;
using FsCheck;
using FsCheck.Fluent;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Models;

/// <summary>
/// Damaged weight files fail with typed errors that name the file and the entry: a mutated shard index
/// (<see cref="SafetensorsShards.OpenIndex"/>) and tensors whose payload no longer fits the model
/// (<see cref="HookedTransformer.FromPretrained"/>).
/// </summary>
public sealed class WeightFilePropertyTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cn-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_root, true);

    /// <summary>HF GPT-2 has no unembedding bias: zero it so the model saves in that layout.</summary>
    private static HookedTransformer HfReady(HookedTransformer model)
    {
        using (no_grad()) model.unembed_b_U.zero_();
        return model;
    }

    private static readonly string[] OddValues =
        ["\"missing.safetensors\"", "\"\"", "\"../model-00001-of-00002.safetensors\"", "\"sub/x.safetensors\"", "\".\"", "1", "null",
         "true", "[]", "{}", "\"model.safetensors.index.json\"", "\"a\\u0000b\""];

    /// <summary>A two-shard checkpoint of a tiny GPT-2 (index + shards), written once per test class instance.</summary>
    private string ShardedCheckpoint()
    {
        var dir = Path.Combine(_root, "sharded");
        if (Directory.Exists(dir)) return dir;
        using var scope = NewDisposeScope();
        using var model = HfReady(ModelFixtures.RandomModel("gpt2"));
        model.SavePretrained(dir, maxShardBytes: 4096);
        Assert.True(File.Exists(Path.Combine(dir, SafetensorsShards.IndexFileName)), "the fixture must be sharded");
        return dir;
    }

    private static string MutateIndex(string json, int seed)
    {
        var rng = new Random(seed);
        var root = JsonNode.Parse(json)!.AsObject();
        var map = root["weight_map"]!.AsObject();
        var keys = map.Select(kv => kv.Key).ToList();
        var shards = map.Select(kv => kv.Value!.GetValue<string>()).Distinct().ToList();
        switch (rng.Next(7))
        {
            case 0: map[keys[rng.Next(keys.Count)]] = JsonNode.Parse(OddValues[rng.Next(OddValues.Length)]); break;
            case 1: map[keys[rng.Next(keys.Count)]] = shards[rng.Next(shards.Count)]; break; // maybe the wrong shard
            case 2: map["blocks.99.attn.W_Q"] = shards[0]; break; // a tensor no shard holds
            case 3: root.Remove("weight_map"); break;
            case 4: root["weight_map"] = JsonNode.Parse(OddValues[rng.Next(OddValues.Length)]); break;
            case 5: map.Remove(keys[rng.Next(keys.Count)]); break;
            default:
                var text = root.ToJsonString();
                return text.Remove(rng.Next(text.Length), 1);
        }
        return root.ToJsonString();
    }

    [Fact]
    public void MutatedShardIndexOnlyEverRaisesFormatErrorsNamingTheIndex()
    {
        var dir = ShardedCheckpoint();
        var original = File.ReadAllText(Path.Combine(dir, SafetensorsShards.IndexFileName));
        int run = 0;
        Prop.ForAll<int>(seed =>
        {
            var caseDir = Path.Combine(_root, $"index-{run++}");
            Directory.CreateDirectory(caseDir);
            foreach (var f in Directory.GetFiles(dir, "*.safetensors")) File.Copy(f, Path.Combine(caseDir, Path.GetFileName(f)));
            var index = Path.Combine(caseDir, SafetensorsShards.IndexFileName);
            var mutated = MutateIndex(original, seed);
            File.WriteAllText(index, mutated);
            try
            {
                using var shards = SafetensorsShards.OpenIndex(index);
                using var scope = NewDisposeScope();
                foreach (var name in shards.Names) shards.Load(name); // every listed tensor must then load
                return true.Label(mutated);
            }
            catch (SafetensorsFormatException e)
            {
                return (e.FilePath == index && e.Message.StartsWith(index)).Label($"{e.Message}\n{mutated}");
            }
            finally { Directory.Delete(caseDir, true); }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    /// <summary>One tensor of a single-file checkpoint rewritten: other shape, other element count, other dtype, removed or renamed.</summary>
    private static Dictionary<string, Tensor> MutateTensors(Dictionary<string, Tensor> tensors, int seed, out string touched)
    {
        var rng = new Random(seed);
        var names = tensors.Keys.Order().ToList();
        touched = names[rng.Next(names.Count)];
        var t = tensors[touched];
        var result = new Dictionary<string, Tensor>(tensors);
        switch (rng.Next(6))
        {
            case 0: result[touched] = t.reshape(-1).contiguous(); break; // same bytes, flat shape
            case 1: result[touched] = cat([t.reshape(-1), zeros(1 + rng.Next(5))]).contiguous(); break;
            case 2: result[touched] = t.to_type(new[] { ScalarType.Int64, ScalarType.Float64, ScalarType.Float16, ScalarType.Bool, ScalarType.Int32 }[rng.Next(5)]); break;
            case 3: result.Remove(touched); break;
            case 4: result.Remove(touched); result[touched + ".extra"] = t; break;
            default: result[touched] = t.numel() > 1 ? t.reshape(-1).narrow(0, 0, t.numel() - 1).contiguous() : zeros(0); break;
        }
        return result;
    }

    [Fact]
    public void DamagedTensorPayloadsOnlyEverRaiseTypedErrorsNamingFileAndTensor()
    {
        var dir = Path.Combine(_root, "single");
        using (var model = HfReady(ModelFixtures.RandomModel("gpt2"))) model.SavePretrained(dir);
        var weights = Path.Combine(dir, SafetensorsShards.SingleFileName);
        Dictionary<string, Tensor> original;
        using (var file = SafetensorsFile.Open(weights)) original = file.LoadAll();
        try
        {
            Prop.ForAll<int>(seed =>
            {
                using var scope = NewDisposeScope();
                var mutated = MutateTensors(original, seed, out var touched);
                SafetensorsFile.Write(weights, mutated);
                try
                {
                    using var loaded = HookedTransformer.FromPretrained(dir, loadTokenizer: false);
                    return true.Label(touched);
                }
                catch (Exception e) when (e is InvalidDataException or IOException or StateDictMismatchException or NotSupportedException)
                {
                    bool namesFile = e.Message.Contains(dir) || e.Message.Contains(SafetensorsShards.SingleFileName);
                    // Without the tensor that tells the layout apart, the reader may name it without its "transformer." prefix.
                    bool namesTensor = e.Message.Contains(touched) || e.Message.Contains(touched[(touched.IndexOf('.') + 1)..]);
                    return (namesFile && namesTensor).Label($"{touched}: {e.GetType().Name}: {e.Message}");
                }
            }).Check(Config.QuickThrowOnFailure.WithMaxTest(120));
        }
        finally
        {
            foreach (var t in original.Values) t.Dispose();
        }
    }
}
