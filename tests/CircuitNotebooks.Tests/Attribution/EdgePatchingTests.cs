using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using CircuitNotebooks.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static CircuitNotebooks.Tests.Attribution.AttributionFixtures;

namespace CircuitNotebooks.Tests.Attribution;

/// <summary>The edge-patched forward against whole-run and node-level patching computed with plain hooks.</summary>
public class EdgePatchingTests
{
    private static Tensor Patched(HookedTransformer model, AttributionBatch batch, bool[] patch)
    {
        var g = CircuitGraph.FromConfig(model.Config);
        using var opts = EdgeOptions(model);
        var byNode = CachedSources(model, g, batch);
        var w = tensor(patch.Select(x => x ? 1f : 0f).ToArray(), [1, g.ForwardCount, g.BackwardCount]);
        var (_, _, residuals) = PlainEdgeRun.CaptureSources(model, g, batch.Corrupted, batch.AttentionMask, batch.Metric, withResiduals: true);
        return EdgeForward.PatchedLogits(model, g, batch.Clean, batch.AttentionMask, byNode, residuals!, w);
    }

    /// <summary>The corrupted run's sources [n_fwd, b·p·d] from cached per-head hook_result, independently of the plain capture.</summary>
    private static Tensor CachedSources(HookedTransformer model, CircuitGraph g, AttributionBatch batch)
    {
        bool Keep(string n) => n == "blocks.0.hook_resid_pre" || n.EndsWith("attn.hook_result") || n.EndsWith("hook_mlp_out");
        var (_, cache) = model.RunWithCache(batch.Corrupted, Keep, batch.AttentionMask);
        var parts = new List<Tensor> { cache["blocks.0.hook_resid_pre"].unsqueeze(0) };
        for (int l = 0; l < g.NLayers; l++)
        {
            parts.Add(cache[$"blocks.{l}.attn.hook_result"].permute(2, 0, 1, 3));
            parts.Add(cache[$"blocks.{l}.hook_mlp_out"].unsqueeze(0));
        }
        var byNode = cat(parts, 0).reshape(g.ForwardCount, -1).contiguous();
        cache.Dispose();
        return byNode;
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void CapturedSourcesAreTheCachedHeadResults(string arch)
    {
        // The capture writes sources in place as the forward runs (and frees each block when it ends): the values
        // must still be the per-head results and MLP outputs a full cache records, input first.
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        using var opts = EdgeOptions(model);
        var batch = Batch(model, padded: arch == "gpt2");
        var g = CircuitGraph.FromConfig(model.Config);
        var (_, sources, residuals) = PlainEdgeRun.CaptureSources(model, g, batch.Corrupted, batch.AttentionMask, batch.Metric, withResiduals: false);
        Assert.Null(residuals);
        var expected = CachedSources(model, g, batch);
        Assert.True(MaxAbs(expected) > 0.1, "test needs non-trivial sources");
        Assert.True(MaxAbs(PlainEdgeRun.NodeMajor(sources) - expected) < 1e-5, $"max diff {MaxAbs(PlainEdgeRun.NodeMajor(sources) - expected)}");
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void AnswerOnlyPatchedLogitsAreTheFullLogitsAtEachRowsAnswer(string arch)
    {
        // Faithfulness unembeds only the answer positions; two copies with different patches, padded rows included.
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        using var opts = EdgeOptions(model);
        var batch = Batch(model, padded: arch == "gpt2");
        var g = CircuitGraph.FromConfig(model.Config);
        var byNode = CachedSources(model, g, batch);
        var (_, _, residuals) = PlainEdgeRun.CaptureSources(model, g, batch.Corrupted, batch.AttentionMask, batch.Metric, withResiduals: true);
        var rng = new Random(3);
        var w = tensor(Enumerable.Range(0, 2 * g.ForwardCount * g.BackwardCount).Select(_ => rng.NextDouble() < 0.3 ? 1f : 0f).ToArray(),
            [2, g.ForwardCount, g.BackwardCount]);
        var full = EdgeForward.PatchedLogits(model, g, batch.Clean, batch.AttentionMask, byNode, residuals!, w); // [2b, p, V]
        var answers = EdgeForward.PatchedLogits(model, g, batch.Clean, batch.AttentionMask, byNode, residuals!, w, answersOf: batch.Metric);
        long[] answerPos = arch == "gpt2" ? [4, 2] : [4, 4]; // row 1 of the padded batch has 3 real tokens
        for (int c = 0; c < 2; c++)
            for (int r = 0; r < 2; r++)
                Assert.True(MaxAbs(answers[c * 2 + r] - full[c * 2 + r, answerPos[r]]) < 1e-5, $"copy {c} row {r}");
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void PatchingNoEdgeIsTheCleanRun(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var batch = Batch(model, padded: arch == "gpt2");
        var g = CircuitGraph.FromConfig(model.Config);
        var patched = Patched(model, batch, new bool[g.ForwardCount * g.BackwardCount]);
        using var _ = no_grad();
        var clean = model.Forward(batch.Clean, batch.AttentionMask);
        Assert.True(MaxAbs(patched - clean) < 1e-5, $"max diff {MaxAbs(patched - clean)}");
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void PatchingEveryEdgeIsTheCorruptedRun(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var batch = Batch(model, padded: arch == "neox");
        var g = CircuitGraph.FromConfig(model.Config);
        var patched = Patched(model, batch, g.RealEdgeMask());
        using var _ = no_grad();
        var corrupt = model.Forward(batch.Corrupted, batch.AttentionMask);
        var clean = model.Forward(batch.Clean, batch.AttentionMask);
        Assert.True(MaxAbs(clean - corrupt) > 0.1, "test needs clean and corrupted runs that differ");
        Assert.True(MaxAbs(patched - corrupt) < 1e-4, $"max diff {MaxAbs(patched - corrupt)}");
    }

    public static IEnumerable<object[]> NodeCases()
    {
        foreach (var arch in new[] { "gpt2", "neox", "llama" })
        foreach (var node in new[] { "input", "a0.h1", "m0", "a1.h3", "m1" })
            yield return [arch, node];
    }

    [Theory, MemberData(nameof(NodeCases))]
    public void PatchingAllEdgesOutOfANodeIsNodePatching(string arch, string node)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var batch = Batch(model);
        var g = CircuitGraph.FromConfig(model.Config);
        int f = Enumerable.Range(0, g.ForwardCount).Single(i => g.ForwardNames[i] == node);
        var real = g.RealEdgeMask();
        var patch = new bool[real.Length];
        for (int j = 0; j < g.BackwardCount; j++) patch[f * g.BackwardCount + j] = real[f * g.BackwardCount + j];
        var edgePatched = Patched(model, batch, patch);

        // Node patching: replace the node's output in the residual stream by its corrupted value.
        model.Options.UseAttnResult = true;
        try
        {
            string hook; int? head = null;
            if (node == "input") hook = "blocks.0.hook_resid_pre";
            else if (node.StartsWith('m')) hook = $"blocks.{node[1] - '0'}.hook_mlp_out";
            else { hook = $"blocks.{node[1] - '0'}.attn.hook_result"; head = node[4] - '0'; }
            var (_, cache) = model.RunWithCache(batch.Corrupted, n => n == hook, batch.AttentionMask);
            using var _ = no_grad();
            using (cache)
            {
                var src = cache[hook];
                var nodePatched = model.RunWithHooks(batch.Clean, [(hook, (act, h) =>
                {
                    if (head is null) return src.clone();
                    var copy = act.clone();
                    copy[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Single(head.Value)] = src[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Single(head.Value)];
                    return copy;
                })], batch.AttentionMask);
                var clean = model.Forward(batch.Clean, batch.AttentionMask);
                Assert.True(MaxAbs(nodePatched - clean) > 1e-3, "node patching must change something for the test to mean anything");
                Assert.True(MaxAbs(edgePatched - nodePatched) < 1e-4, $"max diff {MaxAbs(edgePatched - nodePatched)}");
            }
        }
        finally { model.Options.UseAttnResult = false; }
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void AGroupKeepingOneEdgeReadsTheCorruptResidualPlusThatEdge(string arch)
    {
        // Patch every edge into layer 1's q/k/v inputs except a0.h1 -> a1.h2<k>: those inputs must all be the corrupted
        // resid_pre of layer 1, and a1.h2<k> that plus a0.h1's (current − corrupted) output. (The patched forward
        // builds this from the corrupted residual, the form it picks when nearly every edge of a group is patched.)
        // Reference built from plain hooks and a cache of the corrupted run.
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var batch = Batch(model, padded: arch == "llama");
        var g = CircuitGraph.FromConfig(model.Config);
        int v = Enumerable.Range(0, g.BackwardCount).Single(j => g.BackwardNames[j] == "a1.h2<k>");
        int kept = Enumerable.Range(0, g.ForwardCount).Single(i => g.ForwardNames[i] == "a0.h1");
        var real = g.RealEdgeMask();
        var patch = new bool[real.Length];
        for (int j = g.HeadInputIndex(1, 0, (QkvInput)0); j < g.HeadInputIndex(1, 0, (QkvInput)0) + 3 * g.NHeads; j++)
        for (int u = 0; u < g.ForwardCount; u++) patch[u * g.BackwardCount + j] = real[u * g.BackwardCount + j] && !(u == kept && j == v);
        var edgePatched = Patched(model, batch, patch);

        model.Options.UseAttnResult = true;
        model.Options.UseSplitQkvInput = true;
        try
        {
            var (_, cache) = model.RunWithCache(batch.Corrupted, n => n is "blocks.1.hook_resid_pre" or "blocks.0.attn.hook_result", batch.AttentionMask);
            using var _ = no_grad();
            using (cache)
            {
                Tensor? current = null;
                var reference = model.RunWithHooks(batch.Clean,
                [
                    ("blocks.0.attn.hook_result", (act, h) => { current = act[.., .., 1].clone().MoveToOuterDisposeScope(); return null; }),
                    ("blocks.1.hook_q_input", (act, h) => cache["blocks.1.hook_resid_pre"].unsqueeze(2).expand_as(act).clone()),
                    ("blocks.1.hook_v_input", (act, h) => cache["blocks.1.hook_resid_pre"].unsqueeze(2).expand_as(act).clone()),
                    ("blocks.1.hook_k_input", (act, h) =>
                    {
                        var copy = cache["blocks.1.hook_resid_pre"].unsqueeze(2).expand_as(act).clone();
                        copy[.., .., 2] = cache["blocks.1.hook_resid_pre"] + current! - cache["blocks.0.attn.hook_result"][.., .., 1];
                        return copy;
                    }),
                ], batch.AttentionMask);
                var clean = model.Forward(batch.Clean, batch.AttentionMask);
                Assert.True(MaxAbs(reference - clean) > 1e-3, "the patch must change something for the test to mean anything");
                Assert.True(MaxAbs(edgePatched - reference) < 1e-4, $"max diff {MaxAbs(edgePatched - reference)}");
            }
        }
        finally
        {
            model.Options.UseAttnResult = false;
            model.Options.UseSplitQkvInput = false;
        }
    }

    [Fact]
    public void EdgeOptionsAreRestoredAndMismatchedPairsRejected()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel("gpt2");
        var batch = Batch(model);
        EdgeAttribution.Compute(model, batch, new AttributionOptions { Method = AttributionMethod.Eap });
        Assert.False(model.Options.UseAttnResult);
        Assert.False(model.Options.UseSplitQkvInput);
        var shorter = batch with { Corrupted = batch.Corrupted[TensorIndex.Colon, TensorIndex.Slice(0, 4)] };
        var ex = Assert.Throws<ArgumentException>(() => EdgeAttribution.Compute(model, shorter));
        Assert.Contains("same token count", ex.Message);
        Assert.Throws<ArgumentException>(() => EdgeAttribution.Compute(model, Array.Empty<AttributionBatch>()));
        var empty = new AttributionBatch(zeros([0, 5], dtype: ScalarType.Int64), zeros([0, 5], dtype: ScalarType.Int64), null, batch.Metric);
        Assert.Throws<ArgumentException>(() => EdgeAttribution.Compute(model, empty));
        Assert.Throws<ArgumentException>(() => new FaithfulnessEvaluator(model, shorter));
    }
}
