using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Models;

public class HookTests
{
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static Tensor Tokens(int b, int p, int seed = 3)
    {
        var gen = new Generator((ulong)seed);
        return randint(0, 40, [b, p], dtype: ScalarType.Int64, generator: gen);
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void IdentityHooksChangeNothing(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        using var _ = no_grad();
        var tokens = Tokens(2, 7);
        var plain = model.Forward(tokens);
        int calls = 0;
        using (model.AddHooks(_ => true, (a, h) => { calls++; return a.clone(); }))
        {
            var hooked = model.Forward(tokens);
            Assert.True(Same(plain, hooked), "identity hooks changed the logits");
        }
        Assert.True(calls > 20);
        Assert.True(Same(plain, model.Forward(tokens)), "hooks were not removed");
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void PatchingWithOwnCacheIsBitExact(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var tokens = Tokens(2, 6);
        var (logits, cache) = model.RunWithCache(tokens);
        using (cache)
        {
            foreach (var name in cache.Keys.Where(k => k.Contains("hook_z") || k.Contains("resid_pre") || k.Contains("mlp_out")))
            {
                using var _ = no_grad();
                var patched = model.RunWithHooks(tokens, [(name, (a, h) => cache[name].clone())]);
                Assert.True(Same(logits, patched), $"patching {name} with itself changed logits");
            }
        }
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void ResidualIdentitiesHold(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var (_, cache) = model.RunWithCache(Tokens(2, 5));
        using (cache)
        {
            for (int l = 0; l < model.Config.NLayers; l++)
            {
                var pre = cache[$"blocks.{l}.hook_resid_pre"];
                var post = cache[$"blocks.{l}.hook_resid_post"];
                var attn = cache[$"blocks.{l}.hook_attn_out"];
                var mlp = cache[$"blocks.{l}.hook_mlp_out"];
                if (model.Config.ParallelAttnMlp)
                    Assert.True((pre + attn + mlp).allclose(post, 1e-5, 1e-5));
                else
                {
                    var mid = cache[$"blocks.{l}.hook_resid_mid"];
                    Assert.True((pre + attn).allclose(mid, 1e-5, 1e-5));
                    Assert.True((mid + mlp).allclose(post, 1e-5, 1e-5));
                }
                if (l > 0) Assert.True(Same(cache[$"blocks.{l - 1}.hook_resid_post"], pre));
                // z and W_O reproduce attn_out (minus its bias)
                var z = cache[$"blocks.{l}.attn.hook_z"];
                var a = model.Blocks[l].attn;
                var recon = einsum("bphe,hem->bpm", z, a.W_O.detach());
                if (a.b_O is not null) recon = recon + a.b_O.detach();
                Assert.True(recon.allclose(attn, 1e-5, 1e-5));
                var pattern = cache[$"blocks.{l}.attn.hook_pattern"];
                Assert.True(pattern.sum(-1).allclose(ones_like(pattern.sum(-1)), 1e-5, 1e-5));
                Assert.Equal(new long[] { 2, model.Config.NHeads, 5, 5 }, pattern.shape);
            }
        }
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void AnalysisModesLeaveLogitsUnchanged(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        using var _ = no_grad();
        var tokens = Tokens(2, 6);
        var plain = model.Forward(tokens);
        model.Options.UseAttnResult = true;
        model.Options.UseSplitQkvInput = true;
        var (split, cache) = model.RunWithCache(tokens);
        using (cache)
        {
            Assert.True(plain.allclose(split, 1e-5, 1e-4));
            var result = cache["blocks.1.attn.hook_result"];
            Assert.Equal(new long[] { 2, 6, 4, 16 }, result.shape);
            Assert.Equal(new long[] { 2, 6, 4, 16 }, cache["blocks.0.hook_k_input"].shape);
            var b = model.Blocks[1].attn.b_O;
            var sum = result.sum(2) + (b is null ? zeros(16) : b.detach());
            Assert.True(sum.allclose(cache["blocks.1.hook_attn_out"], 1e-5, 1e-5));
        }
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void PaddedBatchesMatchSingleRuns(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        using var _ = no_grad();
        int[][] seqs = [[1, 5, 9, 2, 7], [3, 4], [8, 8, 1]];
        foreach (var side in new[] { PaddingSide.Left, PaddingSide.Right })
        {
            using var batch = model.Pad(seqs, side);
            var logits = model.Forward(batch.Tokens, batch.AttentionMask);
            for (int b = 0; b < seqs.Length; b++)
            {
                var single = model.Forward(tensor(seqs[b].Select(i => (long)i).ToArray(), [1, seqs[b].Length]));
                int offset = side == PaddingSide.Left ? 5 - seqs[b].Length : 0;
                var rows = logits[b].narrow(0, offset, seqs[b].Length);
                Assert.True(rows.allclose(single[0], 1e-5, 1e-4), $"{side} padded row {b} differs");
            }
        }
    }

    [Fact]
    public void BackwardCacheMatchesFiniteDifference()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel("gpt2");
        var tokens = Tokens(1, 4);
        Func<Tensor, Tensor> metric = l => l[0, -1, 3] - l[0, -1, 5];
        var (_, cache) = model.RunWithCache(tokens, n => n == "blocks.1.hook_resid_pre", backwardMetric: metric);
        using (cache)
        {
            var act = cache["blocks.1.hook_resid_pre"];
            var grad = cache["blocks.1.hook_resid_pre_grad"];
            var dir = randn(act.shape, generator: new Generator(7));
            double eps = 1e-2;
            using var _ = no_grad();
            double Eval(double s) => metric(model.RunWithHooks(tokens, [("blocks.1.hook_resid_pre", (a, h) => act + dir * s)])).item<float>();
            double fd = (Eval(eps) - Eval(-eps)) / (2 * eps);
            double analytic = (grad * dir).sum().item<float>();
            Assert.InRange(Math.Abs(fd - analytic), 0, 1e-2 * Math.Max(1, Math.Abs(fd)));
        }
    }
}
