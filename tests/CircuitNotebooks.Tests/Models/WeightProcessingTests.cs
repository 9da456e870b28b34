using CircuitNotebooks.Models;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Models;

public class WeightProcessingTests
{
    private static Tensor Tokens() => randint(0, 40, [2, 6], dtype: ScalarType.Int64, generator: new Generator(4));

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void FoldingNormsKeepsLogits(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        using var _ = no_grad();
        var before = model.Forward(Tokens());
        WeightProcessing.FoldLayerNorm(model);
        Assert.Equal(1f, model.Blocks[0].ln1.w.min().item<float>());
        Assert.True(before.allclose(model.Forward(Tokens()), 1e-4, 1e-4));
    }

    [Fact]
    public void CenteringWritingWeightsKeepsLogitsAndCentresTheStream()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel("gpt2");
        using var _ = no_grad();
        var before = model.Forward(Tokens());
        WeightProcessing.FoldLayerNorm(model);
        WeightProcessing.CenterWritingWeights(model);
        Assert.True(before.allclose(model.Forward(Tokens()), 1e-4, 1e-4));
        var resid = model.ForwardResidual(Tokens(), null, 2);
        Assert.True(resid.mean([-1]).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void CenteringUnembedShiftsEachPositionByOneConstant()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel("neox");
        using var _ = no_grad();
        var before = model.Forward(Tokens());
        WeightProcessing.CenterUnembed(model);
        var after = model.Forward(Tokens());
        var shift = before - after;
        Assert.True((shift - shift[.., .., ..1]).abs().max().item<float>() < 1e-4);
        Assert.True(after.mean([-1]).abs().max().item<float>() < 1e-4);
        Assert.True(before.log_softmax(-1).allclose(after.log_softmax(-1), 1e-4, 1e-4));
    }

    [Fact]
    public void CenteringWritingWeightsRefusesRmsNorm()
    {
        using var model = ModelFixtures.RandomModel("llama");
        Assert.Throws<InvalidOperationException>(() => WeightProcessing.CenterWritingWeights(model));
    }
}
