using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Models;

public class ForwardResidualFromTests
{
    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void ResumingAtAnyLayerReproducesTheFullForwardAndFiresOnlyLaterHooks(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        using var _ = no_grad();
        var tokens = randint(0, 40, [3, 7], dtype: ScalarType.Int64, generator: new Generator(5));
        // Right padding, left padding, none: positions (rotary) and key masking come from the mask.
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, [3, 7]);
        int L = model.Config.NLayers;
        // A hook that changes the activation in the last block, so the comparison covers hooked blocks too.
        HookFunction scaleZ = (a, h) => a * 0.5;
        var full = model.RunWithHooks(tokens, [($"blocks.{L - 1}.attn.hook_z", scaleZ)], mask);
        for (int l = 0; l <= L; l++)
        {
            Tensor input;
            using (model.AddHooks([($"blocks.{L - 1}.attn.hook_z", scaleZ)]))
                input = model.ForwardResidual(tokens, mask, l); // the prefix runs the same hooks
            var fired = new List<string>();
            Tensor resumed;
            using (model.AddHooks(n => n.EndsWith("hook_resid_pre") || n == "hook_embed", (a, h) => { fired.Add(h.Name); return null; }))
            using (model.AddHooks([($"blocks.{L - 1}.attn.hook_z", scaleZ)]))
                resumed = model.ForwardResidualFrom(input, mask, l);
            var logits = model.Unembed(model.ln_final.Forward(resumed));
            Assert.True(logits.allclose(full, rtol: 1e-5, atol: 1e-5), $"resumed at layer {l} differs from the full forward");
            Assert.Equal(Enumerable.Range(l, L - l).Select(k => $"blocks.{k}.hook_resid_pre"), fired);
        }
    }

    [Fact]
    public void BadLayersAndShapesAreRejected()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel("gpt2");
        var x = zeros(2, 5, 16);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ForwardResidualFrom(x, null, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ForwardResidualFrom(x, null, -1));
        Assert.Throws<ArgumentException>(() => model.ForwardResidualFrom(zeros(2, 5, 8), null, 0));
        Assert.Throws<ArgumentException>(() => model.ForwardResidualFrom(x, ones(2, 4, dtype: ScalarType.Int64), 0));
    }
}
