using CircuitNotebooks.Circuits;
using Xunit;

namespace CircuitNotebooks.Tests.Circuits;

public class CircuitPruningTests
{
    private static readonly CircuitGraph G = new(3, 2, false);

    [Fact]
    public void HandExampleRemovesDanglingParts()
    {
        var c = TestCircuits.FromNamed(G, new Dictionary<string, float>
        {
            ["input->a0.h0<q>"] = 1, ["a0.h0->m1"] = 1, ["m1->logits"] = 1,   // complete path: stays
            ["a0.h1->a1.h0<k>"] = 1, ["a1.h0->logits"] = 1,                     // a0.h1 has no input: chain drops
            ["input->a2.h1<v>"] = 1,                                             // a2.h1 reaches nothing: drops
        });
        var p = CircuitPruning.Prune(c);
        Assert.Equal(new HashSet<string> { "input->a0.h0<q>", "a0.h0->m1", "m1->logits" }, TestCircuits.EdgeNames(p.Circuit));
        Assert.Equal(new HashSet<string> { "input", "a0.h0", "m1", "logits" }, p.Circuit.NodesInCircuit().ToHashSet());
        Assert.Equal((7, 4, 6, 3), (p.NodesBefore, p.NodesAfter, p.EdgesBefore, p.EdgesAfter));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void MatchesIterativeFixpointOnRandomSelections(int seed)
    {
        var c = CircuitSelection.TopN(TestCircuits.RandomScores(G, seed), 12 + 6 * seed);
        // Naive: repeatedly drop nodes (other than input/logits) without an incoming or an outgoing edge, input
        // without outgoing, logits without incoming, and their edges, until nothing changes.
        var edges = c.EdgesInCircuit().Select(e => e.Name.Split("->")).Select(p => (p[0], Node: p[1].Split('<')[0])).ToHashSet();
        bool changed = true;
        while (changed)
        {
            var nodes = edges.SelectMany(e => new[] { e.Item1, e.Node }).ToHashSet();
            var dead = nodes.Where(n => (n != "input" && !edges.Any(e => e.Node == n)) || (n != "logits" && !edges.Any(e => e.Item1 == n))).ToHashSet();
            var before = edges.Count;
            edges.RemoveWhere(e => dead.Contains(e.Item1) || dead.Contains(e.Node));
            changed = edges.Count != before;
        }
        var pruned = CircuitPruning.Prune(c).Circuit;
        var got = pruned.EdgesInCircuit().Select(e => e.Name.Split("->")).Select(p => (p[0], Node: p[1].Split('<')[0])).ToHashSet();
        Assert.Equal(edges, got);
        Assert.Equal(edges.SelectMany(e => new[] { e.Item1, e.Node }).ToHashSet(), pruned.NodesInCircuit().ToHashSet());
    }

    [Fact]
    public void EmptySelectionPrunesToNothing()
    {
        var p = CircuitPruning.Prune(TestCircuits.RandomScores(G, 1));
        Assert.Equal(0, p.NodesAfter);
        Assert.Equal(0, p.EdgesAfter);
    }
}
