using CircuitNotebooks.Circuits;
using Xunit;

namespace CircuitNotebooks.Tests.Circuits;

public class CircuitGraphTests
{
    private static HashSet<string> MaskEdgeNames(CircuitGraph g)
    {
        var mask = g.RealEdgeMask();
        var names = new HashSet<string>();
        for (int f = 0; f < g.ForwardCount; f++)
            for (int b = 0; b < g.BackwardCount; b++)
                if (mask[g.EdgeIndex(f, b)]) names.Add($"{g.ForwardNames[f]}->{g.BackwardNames[b]}");
        return names;
    }

    [Fact]
    public void Gpt2SmallHasPaperCounts()
    {
        var g = CircuitGraph.FromConfig(TestCircuits.Gpt2Small);
        var naive = TestCircuits.NaiveEdges(12, 12, parallel: false);
        Assert.Equal(157, g.ForwardCount);
        Assert.Equal(445, g.BackwardCount);
        Assert.Equal(32_491, g.EdgeCount);
        Assert.Equal(naive.Count, g.EdgeCount);
        Assert.Equal(naive.Select(e => $"{e.Src}->{e.Dst}").ToHashSet(), MaskEdgeNames(g));
    }

    [Fact]
    public void Pythia14BHasPaperCounts()
    {
        var g = CircuitGraph.FromConfig(TestCircuits.Pythia1_4B);
        var naive = TestCircuits.NaiveEdges(24, 16, parallel: true);
        Assert.Equal(410, g.NodeCount);
        Assert.Equal(231_493, g.EdgeCount);
        Assert.Equal(naive.Count, g.EdgeCount);
        Assert.Equal(naive.Select(e => $"{e.Src}->{e.Dst}").ToHashSet(), MaskEdgeNames(g));
    }

    [Theory]
    [InlineData(3, 4, false)]
    [InlineData(3, 4, true)]
    public void IndexLayoutFollowsFormulas(int L, int H, bool parallel)
    {
        var g = new CircuitGraph(L, H, parallel);
        Assert.Equal("input", g.ForwardNames[0]);
        string[] kinds = ["q", "k", "v"];
        for (int l = 0; l < L; l++)
        {
            for (int h = 0; h < H; h++)
            {
                Assert.Equal($"a{l}.h{h}", g.ForwardNames[1 + l * (H + 1) + h]);
                for (int kind = 0; kind < 3; kind++)
                {
                    int b = l * (3 * H + 1) + kind * H + h;
                    Assert.Equal($"a{l}.h{h}<{kinds[kind]}>", g.BackwardNames[b]);
                    Assert.Equal(b, g.HeadInputIndex(l, h, (QkvInput)kind));
                    Assert.Equal(1 + l * (H + 1), g.PrefixLength(b));
                    Assert.Equal(1 + l * (H + 1) + h, g.BackwardNode(b));
                }
            }
            Assert.Equal($"m{l}", g.ForwardNames[1 + l * (H + 1) + H]);
            int mb = l * (3 * H + 1) + 3 * H;
            Assert.Equal($"m{l}", g.BackwardNames[mb]);
            // Sequential MLP reads its own layer's heads; parallel (Pythia) reads only up to layer l−1.
            Assert.Equal(parallel ? 1 + l * (H + 1) : 1 + l * (H + 1) + H, g.PrefixLength(mb));
            Assert.Equal(!parallel, g.IsRealEdge(g.HeadIndex(l, H - 1), mb));
            Assert.Equal(l, g.LayerOf(g.MlpIndex(l)));
        }
        Assert.Equal("logits", g.BackwardNames[^1]);
        Assert.Equal(g.ForwardCount, g.PrefixLength(g.BackwardCount - 1));
        Assert.Equal(0, g.LayerOf(g.InputNode));
        Assert.Equal(NodeKind.Logits, g.KindOf(g.BackwardNode(g.LogitsInput)));
    }

    [Fact]
    public void EdgeNamesMatchEapIgSpelling()
    {
        var g = new CircuitGraph(4, 4, false);
        Assert.Equal("a0.h1->a2.h3<q>", g.EdgeName(g.HeadIndex(0, 1), g.HeadInputIndex(2, 3, QkvInput.Q)));
        Assert.Equal("input->m0", g.EdgeName(0, g.MlpInputIndex(0)));
        Assert.Equal("m3->logits", g.EdgeName(g.MlpIndex(3), g.LogitsInput));
    }

    [Fact]
    public void HeadLayoutPrefixesMatchQkvPrefixes()
    {
        var g = new CircuitGraph(3, 2, true);
        var head = g.At(EdgeGranularity.Head);
        // Head-level edges = distinct (source, node) pairs of the q/k/v edges.
        var naive = TestCircuits.NaiveEdges(3, 2, true)
            .Select(e => (e.Src, Dst: e.Dst.Contains('<') ? e.Dst[..e.Dst.IndexOf('<')] : e.Dst)).Distinct().Count();
        Assert.Equal(naive, head.EdgeCount);
        Assert.Equal(0, head.PrefixLength(g.InputNode));
    }
}
