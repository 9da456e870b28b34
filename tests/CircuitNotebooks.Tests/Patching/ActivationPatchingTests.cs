using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using CircuitNotebooks.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Patching;

public class ActivationPatchingTests
{
    private static (Tensor Clean, Tensor Corrupt, Tensor? Mask, Metric Metric) Data(HookedTransformer m, bool padded)
    {
        var gen = new Generator(17);
        var clean = randint(0, 40, [3, 6], dtype: ScalarType.Int64, generator: gen);
        var corrupt = randint(0, 40, [3, 6], dtype: ScalarType.Int64, generator: gen);
        Tensor? mask = padded ? tensor(new long[] { 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 }, [3, 6]) : null;
        return (clean, corrupt, mask, Metric.LogitDiff([1, 2, 3], [4, 5, 6], mask));
    }

    /// <summary>One forward per cell, written directly with hooks: slice [pos?, head?] of the activation replaced.</summary>
    private static double Naive(HookedTransformer model, Tensor tokens, Tensor? mask, Metric metric, string hook,
        Func<Tensor, Tensor> source, int? pos, int? head)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        bool pattern = hook.EndsWith("hook_pattern");
        var logits = model.RunWithHooks(tokens, [(hook, (act, h) =>
        {
            var src = source(act).expand_as(act);
            var outp = act.clone();
            var idx = new List<TensorIndex> { TensorIndex.Colon };
            if (pattern) { idx.Add(head is int hh ? TensorIndex.Single(hh) : TensorIndex.Colon); idx.Add(pos is int pp ? TensorIndex.Single(pp) : TensorIndex.Colon); }
            else
            {
                idx.Add(pos is int pp ? TensorIndex.Single(pp) : TensorIndex.Colon);
                if (act.dim() == 4) idx.Add(head is int hh ? TensorIndex.Single(hh) : TensorIndex.Colon);
            }
            outp[idx.ToArray()] = src[idx.ToArray()];
            return outp;
        })], mask);
        return metric.Evaluate(logits);
    }

    private static Func<Tensor, Tensor> FromRun(HookedTransformer model, Tensor tokens, Tensor? mask, string hook)
    {
        var (_, cache) = model.RunWithCache(tokens, n => n == hook, mask);
        var t = cache[hook].clone().DetachFromDisposeScope();
        cache.Dispose();
        return _ => t;
    }

    public static IEnumerable<object[]> Cases() =>
    [
        ["gpt2", "head_out", false], ["neox", "head_out", true], ["llama", "head_v", false], ["gpt2", "resid", true],
        ["llama", "pattern", false], ["neox", "head_by_pos", false], ["llama", "mlp_out", true],
    ];

    [Theory, MemberData(nameof(Cases))]
    public void BatchedGridsEqualTheNaivePerCellLoop(string arch, string grid, bool padded)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var (clean, corrupt, mask, metric) = Data(model, padded);
        using var ablation = Ablation.Patching(corrupt, mask);
        var opts = new PatchingOptions { MaxCopiesPerForward = 7 }; // groups straddle layers
        int L = model.Config.NLayers, H = model.Config.NHeads, P = 6, KV = model.Config.KvHeads;
        var expected = new List<double>();
        var actual = new List<double>();
        void Fill(double[,] g) { foreach (var v in g) actual.Add(v); }
        switch (grid)
        {
            case "head_out":
                Fill(ActivationPatching.HeadOutAllPos(model, clean, ablation, metric, mask, opts));
                for (int l = 0; l < L; l++) for (int h = 0; h < H; h++)
                    expected.Add(Naive(model, clean, mask, metric, $"blocks.{l}.attn.hook_z", FromRun(model, corrupt, mask, $"blocks.{l}.attn.hook_z"), null, h));
                break;
            case "head_v":
                Fill(ActivationPatching.HeadQkvAllPos(model, clean, 'v', ablation, metric, mask, opts));
                for (int l = 0; l < L; l++) for (int h = 0; h < KV; h++)
                    expected.Add(Naive(model, clean, mask, metric, $"blocks.{l}.attn.hook_v", FromRun(model, corrupt, mask, $"blocks.{l}.attn.hook_v"), null, h));
                break;
            case "pattern":
                Fill(ActivationPatching.HeadPatternAllPos(model, clean, ablation, metric, mask, opts));
                for (int l = 0; l < L; l++) for (int h = 0; h < H; h++)
                    expected.Add(Naive(model, clean, mask, metric, $"blocks.{l}.attn.hook_pattern", FromRun(model, corrupt, mask, $"blocks.{l}.attn.hook_pattern"), null, h));
                break;
            case "resid":
            case "mlp_out":
                string hk = grid == "resid" ? "hook_resid_pre" : "hook_mlp_out";
                Fill(grid == "resid"
                    ? ActivationPatching.ResidStream(model, clean, ablation, metric, mask, options: opts)
                    : ActivationPatching.MlpOut(model, clean, ablation, metric, mask, opts));
                for (int l = 0; l < L; l++) for (int p = 0; p < P; p++)
                    expected.Add(Naive(model, clean, mask, metric, $"blocks.{l}.{hk}", FromRun(model, corrupt, mask, $"blocks.{l}.{hk}"), p, null));
                break;
            case "head_by_pos":
                foreach (var v in ActivationPatching.HeadOutByPos(model, clean, ablation, metric, mask, opts)) actual.Add(v);
                for (int l = 0; l < L; l++) for (int p = 0; p < P; p++) for (int h = 0; h < H; h++)
                    expected.Add(Naive(model, clean, mask, metric, $"blocks.{l}.attn.hook_z", FromRun(model, corrupt, mask, $"blocks.{l}.attn.hook_z"), p, h));
                break;
        }
        Assert.Equal(expected.Count, actual.Count);
        double spread = expected.Max() - expected.Min();
        Assert.True(spread > 1e-3, "patching had no effect; test would be vacuous");
        for (int i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5 * (1 + Math.Abs(expected[i])), $"cell {i}: naive {expected[i]} batched {actual[i]}");
    }

    /// <summary>
    /// Cells in every layer, in shuffled order, on hooks inside the blocks (resumed from the shared prefix, grouped by
    /// layer since 4×20 tokens per copy pass the group-size floor) and outside them (embeddings and ln_final: full
    /// forwards), with padding on both sides; once more with a user hook on ln_final (full logits on the resumed path).
    /// </summary>
    [Theory, InlineData("gpt2"), InlineData("neox"), InlineData("llama")]
    public void MixedLayerCellsMatchOneForwardPerCell(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var gen = new Generator(23);
        const int P = 20;
        var clean = randint(0, 40, [4, P], dtype: ScalarType.Int64, generator: gen);
        var corrupt = randint(0, 40, [4, P], dtype: ScalarType.Int64, generator: gen);
        var maskData = new long[4 * P];
        for (int r = 0; r < 4; r++)
        for (int p = 0; p < P; p++)
            maskData[r * P + p] = r == 0 && p >= 15 || r == 1 && p < 3 ? 0 : 1;
        var mask = tensor(maskData, [4, P]);
        var metric = Metric.ProbabilityDiff([1, 2, 3, 4], [5, 6, 7, 8], mask);
        var cells = new List<PatchCell>
        {
            new("blocks.1.attn.hook_z", null, 2), new("blocks.0.hook_resid_pre", 4), new("hook_embed", 16),
            new("blocks.1.hook_mlp_out", 19), new("blocks.0.attn.hook_z", 7, 1), new("blocks.1.hook_resid_pre", 0),
            new("ln_final.hook_normalized", 19), new("blocks.0.hook_mlp_out", 11), new("blocks.1.attn.hook_pattern", 19, 3),
            new("blocks.0.attn.hook_z", null, 0), new("blocks.1.hook_resid_pre", 19), new("blocks.0.attn.hook_pattern", null, 1),
        };
        using var ablation = Ablation.Patching(corrupt, mask);
        var expected = cells.Select(c =>
            Naive(model, clean, mask, metric, c.HookName, FromRun(model, corrupt, mask, c.HookName), c.Position, c.Head)).ToArray();
        Assert.True(expected.Max() - expected.Min() > 1e-3, "patching had no effect; test would be vacuous");

        void Check(double[] actual, string what)
        {
            for (int i = 0; i < cells.Count; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5 * (1 + Math.Abs(expected[i])),
                    $"{what}, cell {cells[i]}: naive {expected[i]} batched {actual[i]}");
        }
        Check(ActivationPatching.RunCells(model, clean, mask, cells, ablation, metric), "default");
        Check(ActivationPatching.RunCells(model, clean, mask, cells, ablation, metric, new PatchingOptions { MaxCopiesPerForward = 2 }), "2 copies");
        Check(ActivationPatching.RunCells(model, clean, mask, cells, ablation, metric, new PatchingOptions { Batched = false }), "loop");
        int seen = 0;
        using (model.ln_final.HookScale.Add((a, h) => { seen++; return null; }))
            Check(ActivationPatching.RunCells(model, clean, mask, cells, ablation, metric), "ln_final hooked");
        Assert.True(seen > 0);
    }

    [Fact]
    public void ZeroMeanAndPositionMeanAblationsUseTheRightValues()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel("gpt2");
        var (clean, _, mask, metric) = Data(model, padded: true);
        const string hook = "blocks.1.hook_resid_pre";
        var (_, cache) = model.RunWithCache(clean, n => n == hook, mask);
        var act = cache[hook].to_type(ScalarType.Float64); // [3, 6, 16]
        var m = mask!.to_type(ScalarType.Float64);
        // Means over real tokens, by explicit loops.
        var mean = zeros(16, dtype: ScalarType.Float64);
        var posMean = zeros(6, 16, dtype: ScalarType.Float64);
        double count = 0;
        var posCount = new double[6];
        for (int b = 0; b < 3; b++)
        for (int p = 0; p < 6; p++)
            if (m[b, p].item<double>() == 1)
            {
                mean += act[b, p]; count++;
                posMean[p] += act[b, p]; posCount[p]++;
            }
        mean /= count;
        for (int p = 0; p < 6; p++) posMean[p] /= posCount[p];
        var expectations = new (Ablation Ablation, Tensor Value)[]
        {
            (Ablation.Zero(), zeros(1, 6, 16)),
            (Ablation.Mean(clean, mask), mean.to_type(ScalarType.Float32).expand(1, 6, 16)),
            (Ablation.PositionMean(clean, mask), posMean.to_type(ScalarType.Float32).unsqueeze(0)),
        };
        foreach (var (ablation, value) in expectations)
        {
            var grid = ActivationPatching.ResidStream(model, clean, ablation, metric, mask);
            for (int p = 0; p < 6; p++)
            {
                double naive = Naive(model, clean, mask, metric, hook, _ => value, p, null);
                Assert.True(Math.Abs(grid[1, p] - naive) < 1e-5 * (1 + Math.Abs(naive)), $"{ablation.Kind} pos {p}: {grid[1, p]} vs {naive}");
            }
            ablation.Dispose();
        }
    }

    [Fact]
    public void CellsOutsideTheActivationAreRejected()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel("gpt2");
        var (clean, corrupt, mask, metric) = Data(model, false);
        using var ab = Ablation.Patching(corrupt);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            ActivationPatching.RunCells(model, clean, null, [new PatchCell("blocks.0.attn.hook_z", 0, 9)], ab, metric));
        using var shorter = Ablation.Patching(corrupt[.., ..5]);
        Assert.Throws<ArgumentException>(() =>
            ActivationPatching.RunCells(model, clean, null, [new PatchCell("blocks.0.hook_resid_pre", 0)], shorter, metric));
    }
}
