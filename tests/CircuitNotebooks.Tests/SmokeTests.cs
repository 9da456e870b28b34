using TorchSharp;
using Xunit;

namespace CircuitNotebooks.Tests;

public class TorchLoadsTests
{
    [Fact]
    public void MatmulAndAutogradRun()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new float[] { 1, 2, 3, 4 }, [2, 2]).requires_grad_(true);
        var y = a.matmul(a).sum();
        y.backward();
        // d/dA sum(A A) = 1 A^T + A^T 1 → [[3+... ]] closed form: G = J A^T + A^T J with J all-ones
        var g = a.grad!.data<float>().ToArray();
        Assert.Equal(new float[] { 1 + 2 + 1 + 3, 3 + 4 + 1 + 3, 1 + 2 + 2 + 4, 3 + 4 + 2 + 4 }, g);
    }
}
