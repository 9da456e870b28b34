using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using CircuitNotebooks.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static CircuitNotebooks.Tests.Attribution.AttributionFixtures;

namespace CircuitNotebooks.Tests.Attribution;

public class EapTests
{
    /// <summary>
    /// Independent first-order oracle: a scalar gate g[u, v] per edge adds g · (a_u(corrupt) − a_u(clean)) to
    /// destination v's input, head by head, with upstream sets written out from the architecture; d mean-metric / d g at
    /// g = 0 is the EAP score. <paramref name="alpha"/> &lt; 1 evaluates the gradient with the embeddings interpolated
    /// to corrupt + α (clean − corrupt), which is one EAP-IG-inputs step; with <paramref name="group"/> (0 = input,
    /// 1 + 2l = layer l's heads, 2 + 2l = MLP l) that source group's outputs are interpolated instead (EAP-IG over
    /// activations).
    /// </summary>
    internal static float[] GateScores(HookedTransformer model, AttributionBatch batch, double alpha = 1.0, int? group = null)
    {
        using var scope = NewDisposeScope();
        var cfg = model.Config;
        int L = cfg.NLayers, H = cfg.NHeads, F = 1 + L * (H + 1), B = L * (3 * H + 1) + 1;
        using var opts = EdgeOptions(model);
        bool Keep(string n) => n == "blocks.0.hook_resid_pre" || n.EndsWith("attn.hook_result") || n.EndsWith("hook_mlp_out");
        var (_, cc) = model.RunWithCache(batch.Corrupted, Keep, batch.AttentionMask);
        var (_, cl) = model.RunWithCache(batch.Clean, Keep, batch.AttentionMask);
        // Source list: (forward index, layer, isHead, diff [b, p, d]).
        var sources = new List<(int Index, int Layer, bool Head, Tensor Diff)>
            { (0, -1, false, cc["blocks.0.hook_resid_pre"] - cl["blocks.0.hook_resid_pre"]) };
        for (int l = 0; l < L; l++)
        {
            var r = cc[$"blocks.{l}.attn.hook_result"] - cl[$"blocks.{l}.attn.hook_result"];
            for (int h = 0; h < H; h++) sources.Add((1 + l * (H + 1) + h, l, true, r.select(2, h)));
            sources.Add((1 + l * (H + 1) + H, l, false, cc[$"blocks.{l}.hook_mlp_out"] - cl[$"blocks.{l}.hook_mlp_out"]));
        }
        var embedDelta = cl["blocks.0.hook_resid_pre"] - cc["blocks.0.hook_resid_pre"];
        string? groupHook = group switch
        {
            null => null,
            0 => "blocks.0.hook_resid_pre",
            int gi when gi % 2 == 1 => $"blocks.{(gi - 1) / 2}.attn.hook_result",
            int gi => $"blocks.{(gi - 2) / 2}.hook_mlp_out",
        };
        var groupDelta = groupHook is null ? null : cc[groupHook] - cl[groupHook]; // corrupt − clean of the group
        cc.Dispose(); cl.Dispose();

        var gates = zeros([F, B], requires_grad: true);
        Tensor Gated(Tensor x, int j, Func<(int Index, int Layer, bool Head, Tensor Diff), bool> upstream)
        {
            foreach (var s in sources.Where(upstream)) x = x + gates[s.Index, j] * s.Diff;
            return x;
        }
        var hooks = new List<(string, HookFunction)>();
        if (alpha < 1 && groupHook is null) hooks.Add(("blocks.0.hook_resid_pre", (act, h) => act - (1 - alpha) * embedDelta));
        if (alpha < 1 && groupHook is not null) hooks.Add((groupHook, (act, h) => act + (1 - alpha) * groupDelta!));
        for (int l = 0; l < L; l++)
        {
            int layer = l;
            for (int kind = 0; kind < 3; kind++)
            {
                int k = kind;
                hooks.Add(($"blocks.{l}.hook_{"qkv"[kind]}_input", (act, h) =>
                    stack(Enumerable.Range(0, H).Select(head =>
                        Gated(act.select(2, head), layer * (3 * H + 1) + k * H + head, s => s.Layer < layer)).ToArray(), 2)));
            }
            hooks.Add(($"blocks.{l}.hook_mlp_in", (act, h) => Gated(act, layer * (3 * H + 1) + 3 * H,
                s => s.Layer < layer || (s.Layer == layer && s.Head && !cfg.ParallelAttnMlp))));
        }
        hooks.Add(($"blocks.{L - 1}.hook_resid_post", (act, h) => Gated(act, B - 1, s => true)));
        using var grad = enable_grad();
        var logits = model.RunWithHooks(batch.Clean, hooks, batch.AttentionMask);
        var g = autograd.grad([batch.Metric.Mean(logits)], [gates])[0];
        return g.reshape(-1).data<float>().ToArray();
    }

    private static void AssertClose(float[] expected, float[] actual, double rel, string what)
    {
        double scale = expected.Max(x => Math.Abs((double)x));
        Assert.True(scale > 1e-3, $"{what}: oracle scores are all ~0, test would be vacuous");
        double diff = MaxAbsDiff(expected, actual);
        Assert.True(diff <= rel * scale + 1e-6, $"{what}: max |diff| {diff:g4} vs scale {scale:g4}");
    }

    public static IEnumerable<object[]> Archs() => [["gpt2", false], ["gpt2", true], ["neox", false], ["llama", true]];

    [Theory, MemberData(nameof(Archs))]
    public void EapEqualsTheGateDerivative(string arch, bool padded)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var batch = Batch(model, padded: padded);
        var eap = EdgeAttribution.Compute(model, batch, new AttributionOptions { Method = AttributionMethod.Eap });
        AssertClose(GateScores(model, batch), eap.Scores, 1e-4, "EAP");
        for (int i = 0; i < eap.Scores.Length; i++)
            if (!eap.Graph.IsRealEdge(i)) Assert.Equal(0f, eap.Scores[i]);
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void EapIgInputsAveragesGradientsAtAlphaOneThirdTwoThirdsAndOne(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var batch = Batch(model, seed: 5);
        var ig = EdgeAttribution.Compute(model, batch, new AttributionOptions { Method = AttributionMethod.EapIgInputs, Steps = 3 });
        var parts = new[] { 1.0 / 3, 2.0 / 3, 1.0 }.Select(a => GateScores(model, batch, a)).ToArray();
        var expected = Enumerable.Range(0, ig.Scores.Length).Select(i => (parts[0][i] + parts[1][i] + parts[2][i]) / 3f).ToArray();
        AssertClose(expected, ig.Scores, 1e-4, "EAP-IG(3)");
        // k = 0 (the corrupted point) is not among the steps: including it would change the scores.
        var withZero = GateScores(model, batch, 0.0);
        Assert.True(MaxAbsDiff(withZero, parts[2]) > 1e-3);
    }

    /// <summary>
    /// The EAP-IG library's get_scores_ig_activations, written out: for every source group (input, each layer's heads,
    /// each MLP) and every step k = 1..m, one run with that group's outputs at clean + (1 − k/m)(corrupt − clean) whose
    /// gradients score EVERY edge; the sum over all (2L + 1)·m runs is divided by (2L + 1)·m.
    /// </summary>
    [Theory]
    [InlineData("gpt2", true)]
    [InlineData("neox", false)]
    [InlineData("llama", true)]
    public void EapIgActivationsMatchesTheLibraryAlgorithm(string arch, bool padded)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var batch = Batch(model, seed: 5, padded: padded);
        const int m = 3;
        int groups = 1 + 2 * model.Config.NLayers;
        var ig = EdgeAttribution.Compute(model, batch, new AttributionOptions { Method = AttributionMethod.EapIgActivations, Steps = m });
        var expected = new double[ig.Scores.Length];
        for (int group = 0; group < groups; group++)
            for (int k = 1; k <= m; k++)
            {
                var run = GateScores(model, batch, (double)k / m, group);
                for (int i = 0; i < expected.Length; i++) expected[i] += run[i];
            }
        var oracle = expected.Select(x => (float)(x / (groups * m))).ToArray();
        AssertClose(oracle, ig.Scores, 1e-4, "EAP-IG over activations (library algorithm, m = 3)");
        // Interpolating must matter, or the test could not tell this from EAP.
        Assert.True(MaxAbsDiff(oracle, GateScores(model, batch)) > 1e-3);
    }

    /// <summary>Our per-group variant: a group's interpolated runs score only that group's edges, divided by m.</summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void EapIgActivationsPerGroupGivesEachGroupItsOwnRuns(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var batch = Batch(model, seed: 5, padded: arch == "gpt2");
        var g = CircuitGraph.FromConfig(model.Config);
        var ig = EdgeAttribution.Compute(model, batch, new AttributionOptions { Method = AttributionMethod.EapIgActivationsPerGroup, Steps = 3 });
        var expected = new float[ig.Scores.Length];
        var clean = GateScores(model, batch);
        for (int group = 0; group < 1 + 2 * g.NLayers; group++)
        {
            var third = GateScores(model, batch, 1.0 / 3, group);
            var twoThirds = GateScores(model, batch, 2.0 / 3, group);
            int first = group == 0 ? 0 : group % 2 == 1 ? g.HeadIndex((group - 1) / 2, 0) : g.MlpIndex((group - 2) / 2);
            int width = group % 2 == 1 ? g.NHeads : 1;
            for (int u = first; u < first + width; u++)
            for (int v = 0; v < g.BackwardCount; v++)
            {
                int i = u * g.BackwardCount + v;
                expected[i] = (third[i] + twoThirds[i] + clean[i]) / 3f;
            }
        }
        AssertClose(expected, ig.Scores, 1e-4, "EAP-IG over activations, per group (3)");
        Assert.True(MaxAbsDiff(expected, clean) > 1e-3);
    }

    [Fact]
    public void PerExampleScoresAndMiniBatchesAgreeWithSeparateRuns()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel("llama");
        var batch = Batch(model);
        var opts = new AttributionOptions { Method = AttributionMethod.EapIgInputs, Steps = 2, PerExample = true };
        var both = EdgeAttribution.Compute(model, batch, opts);
        AttributionBatch Row(int r) => new(batch.Clean[r..(r + 1)], batch.Corrupted[r..(r + 1)], null,
            Metric.LogitDiff([new long[] { 3, 7 }[r]], [new long[] { 5, 9 }[r]]));
        var reported = new List<int>();
        var progress = new SyncProgress(reported.Add);
        var split = EdgeAttribution.Compute(model, [Row(0), Row(1)], opts with { Progress = progress });
        var row1 = EdgeAttribution.Compute(model, Row(1), opts with { PerExample = false });
        int n = both.Scores.Length;
        Assert.Equal(2 * n, both.PerExample!.Length);
        Assert.True(MaxAbsDiff(both.PerExample[n..], row1.Scores) < 1e-5);
        Assert.True(MaxAbsDiff(both.Scores, split.Scores) < 1e-5);
        Assert.True(MaxAbsDiff(both.Scores, both.PerExample[..n].Zip(both.PerExample[n..], (a, b) => (a + b) / 2).ToArray()) < 1e-5);
        Assert.Equal([1, 2], reported);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => EdgeAttribution.Compute(model, batch, opts with { Cancellation = cts.Token }));
    }

    [Fact]
    public void PassesOfOneRowGiveTheMeanOfSeparateOneRowRuns()
    {
        // One row per pass (MaxTokensPerPass = positions) slices the batch and its KL metric; each row scored on its
        // own, with a metric built from that row alone, must give the same scores.
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel("gpt2");
        var b = Batch(model, padded: true);
        var batch = AttributionBatch.WithKlMetric(model, b.Clean, b.Corrupted, b.AttentionMask);
        var opts = new AttributionOptions { Method = AttributionMethod.EapIgInputs, Steps = 3 };
        var passes = EdgeAttribution.Compute(model, batch, opts with { MaxTokensPerPass = (int)batch.Clean.shape[1] });
        var rows = Enumerable.Range(0, 2).Select(r => EdgeAttribution.Compute(model,
            AttributionBatch.WithKlMetric(model, b.Clean[r..(r + 1)], b.Corrupted[r..(r + 1)], b.AttentionMask![r..(r + 1)]), opts).Scores).ToArray();
        var mean = rows[0].Zip(rows[1], (x, y) => (x + y) / 2).ToArray();
        Assert.True(mean.Max(Math.Abs) > 1e-4, "test needs non-zero scores");
        Assert.True(MaxAbsDiff(mean, passes.Scores) < 1e-5, $"max diff {MaxAbsDiff(mean, passes.Scores)}");
        Assert.Equal(2, passes.Examples);
        Assert.Throws<ArgumentOutOfRangeException>(() => EdgeAttribution.Compute(model, batch, opts with { MaxTokensPerPass = 0 }));
    }

    /// <summary>
    /// A model whose token embeddings are almost identical (differences of order ε) responds nearly linearly to the
    /// clean → corrupted switch, so the first-order estimates must agree with exact edge patching, with a relative
    /// error that shrinks as ε does (it is second order). The library's EAP-IG over activations moves one group at a time, so its gradients stay near the clean point
    /// (closer to EAP) and its error is larger at a given ε; it must still shrink.
    /// </summary>
    [Theory]
    [InlineData("gpt2", AttributionMethod.EapIgInputs, 0.02)]
    [InlineData("neox", AttributionMethod.EapIgActivationsPerGroup, 0.02)]
    [InlineData("neox", AttributionMethod.EapIgActivations, 0.06)]
    [InlineData("llama", AttributionMethod.EapIgInputs, 0.02)]
    public void EapIgApproachesExactEdgePatchingWhenTheEffectIsNearlyLinear(string arch, AttributionMethod method, double tolerance)
    {
        double RelativeError(double eps)
        {
            using var scope = NewDisposeScope();
            using var model = ModelFixtures.RandomModel(arch);
            using (no_grad())
            {
                var row = model.embed_W_E[0].clone();
                model.embed_W_E.mul_(eps).add_(row.unsqueeze(0));
            }
            var batch = Batch(model, seed: 21);
            var exact = ExactEdgePatching.Compute(model, batch, copiesPerForward: 16);
            var ig = EdgeAttribution.Compute(model, batch, new AttributionOptions { Method = method, Steps = 8 });
            double scale = exact.Scores.Max(x => Math.Abs((double)x));
            Assert.True(scale > 1e-4, "exact effects vanish; test would be vacuous");
            return MaxAbsDiff(exact.Scores, ig.Scores) / scale;
        }
        double coarse = RelativeError(0.04), fine = RelativeError(0.01);
        Assert.True(fine < tolerance, $"relative error {fine:g3} at eps 0.01");
        Assert.True(fine < 0.5 * coarse, $"error did not shrink with eps: {coarse:g3} -> {fine:g3}");
    }

    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
