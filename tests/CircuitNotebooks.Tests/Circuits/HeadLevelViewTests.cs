using CircuitNotebooks.Circuits;
using Xunit;

namespace CircuitNotebooks.Tests.Circuits;

public class HeadLevelViewTests
{
    [Fact]
    public void SumsQkvPerHeadAbsoluteOrSigned()
    {
        var g = new CircuitGraph(2, 2, false);
        var c = TestCircuits.FromNamed(g,
            new Dictionary<string, float> { ["a0.h1->a1.h0<k>"] = -2f, ["m0->m1"] = -0.5f },
            new Dictionary<string, float> { ["a0.h1->a1.h0<q>"] = 1f, ["a0.h1->a1.h0<v>"] = 0.25f });
        var abs = HeadLevelView.Collapse(c);
        var signed = HeadLevelView.Collapse(c, CollapseMode.Signed);
        int src = g.HeadIndex(0, 1), dst = g.HeadIndex(1, 0);
        Assert.Equal(3.25f, abs.Score(src, dst));
        Assert.Equal(-0.75f, signed.Score(src, dst));
        Assert.Equal(0.5f, abs.Score(g.MlpIndex(0), g.MlpIndex(1)));
        Assert.Equal(-0.5f, signed.Score(g.MlpIndex(0), g.MlpIndex(1)));
        Assert.Equal(new HashSet<string> { "a0.h1->a1.h0", "m0->m1" }, TestCircuits.EdgeNames(abs));
        Assert.Equal(c.NodesInCircuit().ToHashSet(), abs.NodesInCircuit().ToHashSet());
    }
}
