using CircuitNotebooks.Circuits;
using Xunit;

namespace CircuitNotebooks.Tests.Circuits;

public class CircuitCompositionTests
{
    private static readonly CircuitGraph G = new(2, 2, false);

    private static Circuit P => TestCircuits.FromNamed(G,
        new Dictionary<string, float> { ["input->a0.h0<q>"] = 1, ["a0.h0->logits"] = -4, ["input->m1"] = 0.1f },
        new Dictionary<string, float> { ["m0->logits"] = 9 }, new CircuitMetadata { Task = "bracket" });

    private static Circuit Q => TestCircuits.FromNamed(G,
        new Dictionary<string, float> { ["input->a0.h0<q>"] = 3, ["m0->logits"] = 2, ["m1->logits"] = 0.5f },
        new Dictionary<string, float> { ["a0.h0->logits"] = 7 }, new CircuitMetadata { Task = "outer" });

    [Fact]
    public void UnionAveragesSharedScores()
    {
        var u = CircuitComposition.Union([P, Q]);
        Assert.Equal(new HashSet<string> { "input->a0.h0<q>", "a0.h0->logits", "input->m1", "m0->logits", "m1->logits" }, TestCircuits.EdgeNames(u));
        Assert.Equal(2f, u.Score(0, G.HeadInputIndex(0, 0, QkvInput.Q)));                 // (1+3)/2
        Assert.Equal(-4f, u.Score(G.HeadIndex(0, 0), G.LogitsInput));                     // only P has it in
        Assert.Equal(2f, u.Score(G.MlpIndex(0), G.LogitsInput));                          // only Q has it in
        Assert.Equal(P.NodesInCircuit().Union(Q.NodesInCircuit()).ToHashSet(), u.NodesInCircuit().ToHashSet());
        Assert.Equal("bracket+outer", u.Metadata.Task);
    }

    [Fact]
    public void IntersectionKeepsSharedEdges()
    {
        var i = CircuitComposition.Intersection([P, Q]);
        Assert.Equal(new HashSet<string> { "input->a0.h0<q>" }, TestCircuits.EdgeNames(i));
    }

    [Fact]
    public void MergeKeepsTopEdgesAndDropsIsolatedNodes()
    {
        var m = CircuitComposition.Merge([P, Q], keepEdges: 3);
        // Union |scores|: a0.h0->logits 4, input->a0.h0<q> 2, m0->logits 2, m1->logits 0.5, input->m1 0.1.
        Assert.Equal(new HashSet<string> { "a0.h0->logits", "input->a0.h0<q>", "m0->logits" }, TestCircuits.EdgeNames(m));
        Assert.Equal(new HashSet<string> { "input", "a0.h0", "m0", "logits" }, m.NodesInCircuit().ToHashSet()); // m1 dropped
    }
}
