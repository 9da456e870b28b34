using CircuitNotebooks.Circuits;
using Xunit;

namespace CircuitNotebooks.Tests.Circuits;

public class CircuitComparisonTests
{
    private static readonly CircuitGraph G = new(3, 2, false);

    private static Circuit A => TestCircuits.FromNamed(G, new Dictionary<string, float>
    {
        ["input->a0.h0<q>"] = 1, ["a0.h0->m1"] = -2, ["m1->logits"] = 3, ["input->m0"] = 0.5f,
    }, metadata: new CircuitMetadata { Label = "base" });

    private static Circuit B => TestCircuits.FromNamed(G, new Dictionary<string, float>
    {
        ["input->a0.h0<q>"] = 2, ["a0.h0->m1"] = 1, ["m1->logits"] = 3, ["a1.h1->a2.h0<v>"] = 4, ["a2.h0->logits"] = 1,
    }, metadata: new CircuitMetadata { Label = "ckpt1" });

    [Fact]
    public void PairDiffMatchesSetArithmetic()
    {
        var d = CircuitComparison.Compare(A, B);
        var na = A.NodesInCircuit().ToHashSet(); var nb = B.NodesInCircuit().ToHashSet();
        var ea = TestCircuits.EdgeNames(A); var eb = TestCircuits.EdgeNames(B);
        Assert.Equal((double)na.Intersect(nb).Count() / na.Union(nb).Count(), d.NodeJaccard, 12);
        Assert.Equal((double)ea.Intersect(eb).Count() / ea.Union(eb).Count(), d.EdgeJaccard, 12);
        Assert.Equal(new HashSet<string> { "a1.h1", "a2.h0" }, d.AddedNodes.ToHashSet());
        Assert.Equal(new HashSet<string> { "m0" }, d.RemovedNodes.ToHashSet());
        Assert.Equal(new HashSet<string> { "a1.h1->a2.h0<v>", "a2.h0->logits" }, d.AddedEdges.ToHashSet());
        Assert.Equal(new HashSet<string> { "input->m0" }, d.RemovedEdges.ToHashSet());
        Assert.Equal(3, d.EdgeChanges);
        Assert.Equal(3, d.EdgeChangesTouchingChangedNodes); // every flip touches a1.h1, a2.h0 or m0
        Assert.Equal(1.0, d.ShareEdgeChangesTouchingChangedNodes);
        // Weighted: shared edges min/max (1,2) (1,2) (3,3); A-only 0.5; B-only 4, 1.
        Assert.Equal((1 + 1 + 3) / (2 + 2 + 3 + 0.5 + 4 + 1.0), d.WeightedEdgeJaccard, 6);
        Assert.Equal(("base", "ckpt1"), (d.FromLabel, d.ToLabel));
    }

    [Fact]
    public void PerLayerCountsUseSourceLayerAndInputIsLayerZero()
    {
        var d = CircuitComparison.Compare(A, B);
        // input->m0 removed → layer 0 (input); a1.h1->a2.h0<v> added → layer 1 (its source), a2.h0->logits → layer 2.
        Assert.Equal(4, d.PerLayer.Count); // layers 0..2 plus the logits row
        Assert.Equal((0, 1), (d.PerLayer[0].EdgesAdded, d.PerLayer[0].EdgesRemoved));
        Assert.Equal((1, 0), (d.PerLayer[1].EdgesAdded, d.PerLayer[1].EdgesRemoved));
        Assert.Equal((1, 0), (d.PerLayer[2].EdgesAdded, d.PerLayer[2].EdgesRemoved));
        Assert.Equal((0, 1), (d.PerLayer[0].NodesAdded, d.PerLayer[0].NodesRemoved)); // m0
        Assert.Equal(1, d.PerLayer[1].NodesAdded); // a1.h1
        Assert.Equal(1, d.PerLayer[2].NodesAdded); // a2.h0
        Assert.Equal(d.EdgeChanges, d.PerLayer.Sum(l => l.EdgeChanges));
    }

    [Fact]
    public void SeriesComparesWithBaseAndPrevious()
    {
        var c = TestCircuits.FromNamed(G, new Dictionary<string, float> { ["m1->logits"] = 1 });
        var s = CircuitComparison.CompareSeries([A, B, c]);
        Assert.Equal([(0, 1), (0, 2)], s.VsBase.Select(d => (d.FromIndex, d.ToIndex)));
        Assert.Equal([(0, 1), (1, 2)], s.VsPrevious.Select(d => (d.FromIndex, d.ToIndex)));
        // B → c: c keeps 1 of B's 5 edges.
        Assert.Equal(1.0 / 5, s.VsPrevious[1].EdgeJaccard, 12);
        Assert.Equal(1.0, CircuitComparison.Compare(A, A).EdgeJaccard);
    }

    [Fact]
    public void DifferentGranularityIsRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => CircuitComparison.Compare(A, HeadLevelView.Collapse(B)));
        Assert.Contains("granularity", ex.Message);
    }
}
