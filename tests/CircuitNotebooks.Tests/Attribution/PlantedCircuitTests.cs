using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using CircuitNotebooks.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Attribution;

/// <summary>
/// A hand-built GPT-2-style model that counts tokens through exactly one path: head a0.h1 copies the token identity
/// (dims 0..3) into dims 4..7, head a1.h2 copies dims 4..7 into 8..11, the unembedding reads 8..11. Queries and keys
/// are zero (uniform causal attention), every other head and both MLPs write nothing, and a large constant residual
/// dimension keeps the norms nearly linear. The answer is the most frequent token.
/// </summary>
public class PlantedCircuitTests
{
    private static HookedTransformer Planted()
    {
        var model = new HookedTransformer(ModelFixtures.Gpt2);
        using var _ = no_grad();
        foreach (var b in model.Blocks) { b.ln1.w.fill_(1); b.ln2.w.fill_(1); }
        model.ln_final.w.fill_(1);
        model.pos_embed_W_pos!.select(1, 15).fill_(6);
        for (int i = 0; i < 4; i++)
        {
            model.embed_W_E[i, i] = 1;
            model.Blocks[0].attn.W_V[1, i, i] = 1;
            model.Blocks[0].attn.W_O[1, i, 4 + i] = 1;
            model.Blocks[1].attn.W_V[2, 4 + i, i] = 1;
            model.Blocks[1].attn.W_O[2, i, 8 + i] = 1;
            model.unembed_W_U[8 + i, i] = 20;
        }
        return model;
    }

    private static AttributionBatch Task()
    {
        var clean = tensor(new long[] { 0, 0, 0, 1, 2, 1, 1, 2, 1, 3 }, [2, 5]);
        var corrupt = tensor(new long[] { 1, 1, 1, 0, 2, 0, 0, 2, 0, 3 }, [2, 5]);
        return new AttributionBatch(clean, corrupt, null, Metric.LogitDiff([0, 1], [1, 0]));
    }

    private static int[] PlantedEdges(CircuitGraph g) =>
    [
        g.EdgeIndex(0, g.HeadInputIndex(0, 1, (QkvInput)2)),
        g.EdgeIndex(g.HeadIndex(0, 1), g.HeadInputIndex(1, 2, (QkvInput)2)),
        g.EdgeIndex(g.HeadIndex(1, 2), g.LogitsInput),
    ];

    [Theory]
    [InlineData(AttributionMethod.Eap)]
    [InlineData(AttributionMethod.EapIgInputs)]
    [InlineData(AttributionMethod.EapIgActivations)]
    public void TopEdgesAreThePlantedPathWithNegativeScores(AttributionMethod method)
    {
        using var scope = NewDisposeScope();
        using var model = Planted();
        var batch = Task();
        var g = CircuitGraph.FromConfig(model.Config);
        using (no_grad())
        {
            Assert.True(batch.Metric.Evaluate(model.Forward(batch.Clean)) > 1, "clean run should prefer the majority token");
            Assert.True(batch.Metric.Evaluate(model.Forward(batch.Corrupted)) < -1, "corrupted run should prefer the other token");
        }
        var scores = EdgeAttribution.Compute(model, batch, new AttributionOptions { Method = method });
        var planted = PlantedEdges(g);
        Assert.Equal(planted.OrderBy(i => i), scores.TopEdges(3).OrderBy(i => i));
        // Switching any planted edge to the corrupted run lowers the logit difference, and exact patching agrees.
        var exact = ExactEdgePatching.Compute(model, batch, planted);
        foreach (var e in planted)
        {
            Assert.True(scores.Scores[e] < -0.1, $"{g.EdgeName(e)} scored {scores.Scores[e]}");
            Assert.True(exact.Scores[e] < -0.1, $"{g.EdgeName(e)} exact {exact.Scores[e]}");
        }
        // The fourth edge is far smaller: the planted path is the only mechanism.
        float fourth = Math.Abs(scores.Scores[scores.TopEdges(4)[3]]);
        Assert.True(fourth < 0.1 * planted.Min(e => Math.Abs(scores.Scores[e])), $"4th edge {fourth}");
    }

    [Fact]
    public void FaithfulnessOfPlantedCircuitIsOneAndOfItsComplementZero()
    {
        using var scope = NewDisposeScope();
        using var model = Planted();
        var batch = Task();
        var g = CircuitGraph.FromConfig(model.Config);
        using var eval = new FaithfulnessEvaluator(model, batch);
        var circuit = new bool[g.ForwardCount * g.BackwardCount];
        foreach (var e in PlantedEdges(g)) circuit[e] = true;
        var real = g.RealEdgeMask();
        var complement = real.Select((r, i) => r && !circuit[i]).ToArray();
        Circuit C(bool[] edges) => Circuit.Create(g, new float[g.DenseLength], edges, null);
        var results = eval.Evaluate([C(circuit), C(complement), C(real), C(new bool[real.Length])]);
        Assert.InRange(results[0].Normalized, 0.95, 1.05);
        Assert.InRange(results[1].Normalized, -0.05, 0.05);
        Assert.InRange(results[2].Normalized, 1 - 1e-4, 1 + 1e-4);
        Assert.InRange(results[3].Normalized, -1e-4, 1e-4);
        Assert.Equal(3, results[0].EdgeCount);

        // Budget curve from scores: one call, top-n by |score|.
        var scores = EdgeAttribution.Compute(model, batch);
        var curve = eval.Curve(scores.ToCircuit(), [0, 1, 3, real.Count(x => x)]);
        Assert.InRange(curve[0].Normalized, -1e-4, 1e-4);
        Assert.True(curve[1].Normalized < 0.5, $"one edge cannot carry the path: {curve[1].Normalized}");
        Assert.InRange(curve[2].Normalized, 0.95, 1.05);
        Assert.InRange(curve[3].Normalized, 1 - 1e-4, 1 + 1e-4);
    }

    [Fact]
    public void FaithfulnessFormsFollowTheirDefinitions()
    {
        var r = new FaithfulnessResult(Clean: 2.0, Corrupted: -1.0, Circuit: 1.4, EdgeCount: 5);
        Assert.Equal(0.8, r.Normalized, 12);
        Assert.Equal(1 - 0.6 / 2.0, r.RelativeToFull, 12);
        Assert.True(double.IsNaN((r with { Clean = 0 }).RelativeToFull));
    }
}
