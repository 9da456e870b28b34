using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using CircuitNotebooks.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Patching;

public class MeanAblationTests
{
    private const int Rows = 6, Len = 5, Ref = 7;
    private static readonly int[] Site = [1, 3, 4, 0, 2, 3];

    /// <summary>Per-position mean of every head output over the reference prompts, by loops in double precision.</summary>
    private static double[][,,] NaiveMeans(HookedTransformer model, Tensor reference)
    {
        var (_, cache) = model.RunWithCache(reference, n => n.EndsWith("attn.hook_z"));
        using (cache)
        {
            var result = new double[model.Config.NLayers][,,];
            for (int l = 0; l < model.Config.NLayers; l++)
            {
                var z = cache[$"blocks.{l}.attn.hook_z"].to_type(ScalarType.Float64);
                long H = z.shape[2], D = z.shape[3];
                var data = z.data<double>().ToArray();
                var m = new double[Len, H, D];
                for (int r = 0; r < Ref; r++)
                for (int p = 0; p < Len; p++)
                for (int h = 0; h < H; h++)
                for (int d = 0; d < D; d++) m[p, h, d] += data[((r * Len + p) * H + h) * D + d] / Ref;
                result[l] = m;
            }
            return result;
        }
    }

    /// <summary>Logits with z[r, p, h] replaced by the naive mean wherever <paramref name="ablate"/>(layer, row, pos, head).</summary>
    private static Tensor NaiveAblated(HookedTransformer model, Tensor tokens, double[][,,] means, Func<int, int, int, int, bool> ablate)
    {
        var hooks = new List<(string, HookFunction)>();
        for (int l = 0; l < model.Config.NLayers; l++)
        {
            int layer = l;
            hooks.Add(($"blocks.{l}.attn.hook_z", (act, hook) =>
            {
                var z = act.clone();
                for (int r = 0; r < act.shape[0]; r++)
                for (int p = 0; p < Len; p++)
                for (int h = 0; h < act.shape[2]; h++)
                {
                    if (!ablate(layer, r, p, h)) continue;
                    var v = Enumerable.Range(0, (int)act.shape[3]).Select(d => (float)means[layer][p, h, d]).ToArray();
                    z[r, p, h] = tensor(v);
                }
                return z;
            }));
        }
        using var _ = no_grad();
        return model.RunWithHooks(tokens, hooks);
    }

    private static double NaiveAccuracy(Tensor logits, long[] labels)
    {
        int correct = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            var row = logits[r, -1].data<float>().ToArray();
            if (Array.IndexOf(row, row.Max()) == labels[r]) correct++;
        }
        return correct / (double)labels.Length;
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void FullCircuitIsFaithfulAndAblatedCircuitsMatchANaiveLoop(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var gen = new Generator(9);
        var tokens = randint(0, 40, [Rows, Len], dtype: ScalarType.Int64, generator: gen);
        var reference = randint(0, 40, [Ref, Len], dtype: ScalarType.Int64, generator: gen);
        var means = NaiveMeans(model, reference);
        // Labels: the empty circuit's own answers for half the rows, the full model's for the rest, so neither
        // accuracy is trivially 0 or 1.
        using var __ = no_grad();
        var emptyNaive = NaiveAblated(model, tokens, means, (_, _, _, _) => true);
        var full = model.Forward(tokens);
        var labels = Enumerable.Range(0, Rows).Select(r => (r % 2 == 0 ? emptyNaive : full)[r, -1].argmax(-1).item<long>()).ToArray();
        using var batch = new PromptBatch(tokens, null, labels, new Dictionary<string, int[]> { ["site"] = Site });
        using var eval = new MeanAblationEvaluator(model, reference) { BatchSize = 4 }; // two chunks

        var all = CrossModelPatching.AllHeads(model.Config);
        Assert.Equal(1.0, eval.Faithfulness(batch, all), 12);
        Assert.Equal(0.0, (eval.Logits(batch, all, keep: true) - full).abs().max().item<float>());

        var empty = eval.Logits(batch, [], keep: true);
        Assert.True((empty - emptyNaive).abs().max().item<float>() < 1e-4);
        Assert.Equal(NaiveAccuracy(emptyNaive, labels), eval.Accuracy(batch, []), 12);
        Assert.Equal(NaiveAccuracy(emptyNaive, labels) / NaiveAccuracy(full, labels), eval.Faithfulness(batch, []), 12);

        // A circuit of one head at each row's site token plus one head everywhere.
        HeadSite[] circuit = [new(0, 1, "site"), new(1, 2)];
        bool Kept(int l, int r, int p, int h) => (l == 0 && h == 1 && p == Site[r]) || (l == 1 && h == 2);
        var partialNaive = NaiveAblated(model, tokens, means, (l, r, p, h) => !Kept(l, r, p, h));
        Assert.True((eval.Logits(batch, circuit, keep: true) - partialNaive).abs().max().item<float>() < 1e-4);
        Assert.Equal(NaiveAccuracy(partialNaive, labels), eval.Accuracy(batch, circuit), 12);
        var withoutNaive = NaiveAblated(model, tokens, means, Kept);
        Assert.Equal(NaiveAccuracy(withoutNaive, labels), eval.AccuracyWithout(batch, circuit), 12);

        // Completeness: removing K from C = all heads is removing K from the model, so the difference is exactly 0.
        var k = MeanAblationEvaluator.RandomSubsets(all, 1, 0.3, seed: 4)[0];
        var c = eval.Completeness(batch, all, k);
        Assert.Equal(c.CircuitWithout, c.ModelWithout);
        Assert.Equal(0, c.Completeness);
        Assert.Equal(Math.Round(0.3 * all.Count), k.Count);
    }

    [Fact]
    public void ReferenceOfAnotherLengthIsRejected()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel("gpt2");
        using var eval = new MeanAblationEvaluator(model, zeros([2, 4], dtype: ScalarType.Int64));
        using var batch = new PromptBatch(zeros([2, 5], dtype: ScalarType.Int64), null, [0, 0]);
        var ex = Assert.Throws<ArgumentException>(() => eval.Accuracy(batch, []));
        Assert.Contains("same length", ex.Message);
    }
}
