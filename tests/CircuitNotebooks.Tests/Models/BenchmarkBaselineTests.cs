using CircuitNotebooks.Models;
using CircuitNotebooks.Models.Benchmarks;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Models;

public class BenchmarkBaselineTests
{
    [Fact]
    public void PlainBaselineComputesTheSameLogits()
    {
        // The ratio is only meaningful if the baseline does the same work.
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel("gpt2");
        using var _ = no_grad();
        var tokens = randint(0, 40, [2, 9], dtype: ScalarType.Int64);
        Assert.True(model.Forward(tokens).allclose(ForwardBenchmark.PlainForward(model, tokens), 1e-5, 1e-4));
    }
}
