using CircuitNotebooks.Circuits;
using TorchSharp;
using Xunit;

namespace CircuitNotebooks.Tests.Circuits;

public class CircuitTensorsTests
{
    [Fact]
    public void ScoreTensorInEdgeMaskTensorOut()
    {
        var g = new CircuitGraph(2, 2, false);
        using var scope = torch.NewDisposeScope();
        var scores = torch.zeros(g.ForwardCount, g.BackwardCount, dtype: torch.float64);
        scores[g.HeadIndex(0, 1), g.MlpInputIndex(1)] = torch.tensor(3.0, torch.float64);
        scores[g.MlpIndex(1), g.HeadInputIndex(0, 0, QkvInput.V)] = torch.tensor(99.0, torch.float64); // not an edge
        var c = CircuitSelection.TopN(CircuitTensors.FromScoreTensor(g, scores), 1);
        Assert.Equal(new HashSet<string> { "a0.h1->m1" }, TestCircuits.EdgeNames(c));

        var mask = CircuitTensors.EdgeMask(c);
        Assert.Equal(new long[] { g.ForwardCount, g.BackwardCount }, mask.shape);
        Assert.Equal(1, mask.sum().item<long>());
        Assert.True(mask[g.HeadIndex(0, 1), g.MlpInputIndex(1)].item<bool>());
        Assert.Equal(g.EdgeCount, CircuitTensors.RealEdgeMask(g).sum().item<long>());
        Assert.Throws<ArgumentException>(() => CircuitTensors.FromScoreTensor(g, torch.zeros(3, 3)));
    }
}
