using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using CircuitNotebooks.Tests.Reference;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Models;

/// <summary>The TorchSharp model against the independent double-precision loop implementation.</summary>
public class ParityTests
{
    private static readonly int[][] Seqs = [[1, 7, 3, 9, 2, 11], [4, 4, 8], [0, 13, 21, 5]];

    [Theory, MemberData(nameof(TinyConfigs.All), MemberType = typeof(TinyConfigs))]
    public void LogitsMatchNaiveImplementationOnPaddedBatches(string name)
    {
        var cfg = TinyConfigs.ByName(name);
        var w = NaiveWeights.Random(cfg, seed: 11, scale: 0.3);
        using var scope = NewDisposeScope();
        using var model = new HookedTransformer(cfg);
        model.LoadStateDict(w.ToFloatTensors());
        using var _ = no_grad();
        foreach (var side in new[] { PaddingSide.Left, PaddingSide.Right })
        {
            using var batch = model.Pad(Seqs, side);
            var maskRows = Enumerable.Range(0, Seqs.Length)
                .Select(b => batch.AttentionMask[b].data<long>().Select(v => (int)v).ToArray()).ToArray();
            var tokRows = Enumerable.Range(0, Seqs.Length)
                .Select(b => batch.Tokens[b].data<long>().Select(v => (int)v).ToArray()).ToArray();
            var expected = NaiveTransformer.Forward(cfg, w, tokRows, maskRows);
            var actual = model.Forward(batch.Tokens, batch.AttentionMask).to_type(ScalarType.Float64);
            var a = actual.data<double>().ToArray();
            int p = tokRows[0].Length, v = cfg.DVocab;
            // Relative to the row's logit scale: near-zero logits make elementwise ratios meaningless in float32.
            double maxRel = 0;
            for (int b = 0; b < Seqs.Length; b++)
            for (int i = 0; i < p; i++)
            {
                if (maskRows[b][i] == 0) continue;
                double rowScale = expected[b][i].Max(Math.Abs);
                for (int k = 0; k < v; k++)
                {
                    double e = expected[b][i][k], got = a[(b * p + i) * v + k];
                    maxRel = Math.Max(maxRel, Math.Abs(e - got) / rowScale);
                }
            }
            Assert.True(maxRel < 1e-5, $"{name} {side}: max relative logit error {maxRel:E2}");
        }
    }

    [Theory, MemberData(nameof(TinyConfigs.All), MemberType = typeof(TinyConfigs))]
    public void CachedActivationsMatchNaiveTrace(string name)
    {
        var cfg = TinyConfigs.ByName(name);
        var w = NaiveWeights.Random(cfg, seed: 5, scale: 0.3);
        using var scope = NewDisposeScope();
        using var model = new HookedTransformer(cfg);
        model.LoadStateDict(w.ToFloatTensors());
        model.Options.UseAttnResult = true;
        int[][] toks = [[3, 1, 4, 1, 5]];
        var trace = NaiveTransformer.Run(cfg, w, toks);
        var (_, cache) = model.RunWithCache(tensor(toks[0].Select(t => (long)t).ToArray(), [1, 5]));
        using (cache)
        {
            // Every activation the reference records is a hook the engine must emit: a missing one is a failure.
            var missing = trace.Hooks.Keys.Where(k => !cache.Contains(k)).Order().ToList();
            Assert.True(missing.Count == 0, $"{name}: the engine emits no {string.Join(", ", missing)}");
            foreach (var hook in trace.Hooks.Keys)
            {
                var got = cache[hook].to_type(ScalarType.Float64).data<double>().ToArray();
                var exp = trace[hook].Data;
                Assert.Equal(exp.Length, got.Length);
                for (int i = 0; i < exp.Length; i++)
                    Assert.True(Math.Abs(exp[i] - got[i]) <= 1e-4 * (1 + Math.Abs(exp[i])), $"{name} {hook}[{i}]: {got[i]} vs {exp[i]}");
            }
            Assert.Contains("blocks.1.attn.hook_z", cache.Keys);
        }
    }
}
