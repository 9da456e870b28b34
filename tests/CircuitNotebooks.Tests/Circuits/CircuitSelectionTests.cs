using CircuitNotebooks.Circuits;
using Xunit;

namespace CircuitNotebooks.Tests.Circuits;

public class CircuitSelectionTests
{
    private static readonly CircuitGraph G = new(3, 2, false);

    // (name, score) of every real edge, enumerated by name independently of the layout.
    private static List<(string Name, float Score)> Named(Circuit c) =>
        TestCircuits.NaiveEdges(3, 2, false)
            .Select(e => ($"{e.Src}->{e.Dst}", c.Score(G.ForwardIndexOf(e.Src), G.BackwardIndexOf(e.Dst)))).ToList();

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(40)]
    public void TopNAbsoluteAndSignedPickTheLargestScores(int n)
    {
        var c = TestCircuits.RandomScores(G, seed: n);
        var named = Named(c);
        var expectAbs = named.OrderByDescending(e => Math.Abs(e.Score)).Take(n).Select(e => e.Name).ToHashSet();
        var expectSigned = named.OrderByDescending(e => e.Score).Take(n).Select(e => e.Name).ToHashSet();
        Assert.Equal(expectAbs, TestCircuits.EdgeNames(CircuitSelection.TopN(c, n)));
        Assert.Equal(expectSigned, TestCircuits.EdgeNames(CircuitSelection.TopN(c, n, ScoreRanking.Signed)));
    }

    [Fact]
    public void NonRealEntriesAreIgnored()
    {
        var scores = new float[G.ForwardCount * G.BackwardCount];
        // m2 → a0.h0<q> is not an edge (later source); a huge value there must never be selected.
        scores[G.MlpIndex(2) * G.BackwardCount + G.HeadInputIndex(0, 0, QkvInput.Q)] = 1000f;
        scores[0 * G.BackwardCount + G.LogitsInput] = 1f;
        var top = CircuitSelection.TopN(Circuit.FromScores(G, scores), 1);
        Assert.Equal(["input->logits"], TestCircuits.EdgeNames(top));
    }

    [Fact]
    public void TopFractionUsesFivePercentOfRealEdges()
    {
        var c = TestCircuits.RandomScores(G, 3);
        int real = TestCircuits.NaiveEdges(3, 2, false).Count;
        Assert.Equal((int)Math.Round(0.05 * real, MidpointRounding.AwayFromZero), CircuitSelection.TopFraction(c).EdgeCountInCircuit);
        Assert.Equal(81, CircuitSelection.EdgesForFraction(1624, 0.05)); // 81.2
        Assert.Equal(1625, CircuitSelection.EdgesForFraction(32_491, 0.05)); // 1624.55 rounds up
    }

    [Fact]
    public void ThresholdKeepsEdgesAtOrAboveIt()
    {
        var c = TestCircuits.RandomScores(G, 4);
        var expect = Named(c).Where(e => Math.Abs(e.Score) >= 0.7f).Select(e => e.Name).ToHashSet();
        Assert.Equal(expect, TestCircuits.EdgeNames(CircuitSelection.Threshold(c, 0.7f)));
    }

    [Theory]
    [InlineData(5, 1)]
    [InlineData(25, 2)]
    [InlineData(60, 3)]
    public void GreedyMatchesNaiveGrowthFromLogits(int n, int seed)
    {
        var c = TestCircuits.RandomScores(G, seed);
        var named = Named(c);
        // Naive: each step scan every edge whose destination node is already in, take the best |score|.
        var nodes = new HashSet<string> { "logits" };
        var chosen = new HashSet<string>();
        static string NodeOf(string dst) => dst.Contains('<') ? dst[..dst.IndexOf('<')] : dst;
        for (int step = 0; step < n; step++)
        {
            var best = named.Where(e => !chosen.Contains(e.Name) && nodes.Contains(NodeOf(e.Name.Split("->")[1])))
                .OrderByDescending(e => Math.Abs(e.Score)).First();
            chosen.Add(best.Name);
            nodes.Add(best.Name.Split("->")[0]);
        }
        var greedy = CircuitSelection.Greedy(c, n);
        Assert.Equal(chosen, TestCircuits.EdgeNames(greedy));
        // Every greedy circuit reaches logits from each of its nodes, so pruning never removes downstream-dead nodes.
        Assert.Equal(nodes, greedy.NodesInCircuit().ToHashSet());
    }
}
