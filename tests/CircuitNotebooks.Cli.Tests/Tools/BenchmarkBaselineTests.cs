using CircuitNotebooks.Models;
using CircuitNotebooks.Cli.Tools;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Tests.Tools;

public class BenchmarkBaselineTests
{
    [Fact]
    public void PlainBaselineComputesTheSameLogits()
    {
        // The ratio is only meaningful if the baseline does the same work.
        using var scope = NewDisposeScope();
        using var model = HookedTransformer.Create(ToolFixtures.Gpt2, 1);
        using var _ = no_grad();
        var tokens = randint(0, 40, [2, 9], dtype: ScalarType.Int64);
        Assert.True(model.Forward(tokens).allclose(ForwardBenchmark.PlainForward(model, tokens), 1e-5, 1e-4));
    }
}
