using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using CircuitNotebooks.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Patching;

public class CrossModelPatchingTests
{
    private static PromptBatch Batch(bool padded)
    {
        var gen = new Generator(3);
        var tokens = randint(0, 40, [3, 6], dtype: ScalarType.Int64, generator: gen);
        Tensor? mask = padded ? tensor(new long[] { 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 }, [3, 6]) : null;
        return new PromptBatch(tokens, mask, [1, 2, 3], new Dictionary<string, int[]> { ["site"] = [1, 4, 2] });
    }

    /// <summary>A copy of the random model with the parameters whose names pass <paramref name="perturb"/> moved.</summary>
    private static HookedTransformer Variant(string arch, Func<string, bool> perturb)
    {
        var m = ModelFixtures.RandomModel(arch);
        using var _ = no_grad();
        var gen = new Generator(77);
        foreach (var (n, p) in m.NamedParameters())
            if (perturb(n)) p.add_(randn(p.shape, generator: gen) * 0.2);
        return m;
    }

    private static float MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    private static string[] Every(HookedTransformer m, params string[] hooks) =>
        Enumerable.Range(0, m.Config.NLayers).SelectMany(l => hooks.Select(h => $"blocks.{l}.{h}")).ToArray();

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void PatchingAModelIntoItselfIsTheIdentity(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        using var batch = Batch(padded: true);
        using var _ = no_grad();
        var plain = model.Forward(batch.Tokens, batch.AttentionMask);
        var all = CrossModelPatching.AllHeads(model.Config);
        foreach (var c in new[] { HeadComponents.Output, HeadComponents.Query | HeadComponents.Key | HeadComponents.Value })
            Assert.Equal(0f, MaxDiff(plain, CrossModelPatching.Logits(model, model, batch, all, c)));
        HeadSite[] sites = [new(0, 1, "site"), new(1, 3, PromptBatch.Last)];
        Assert.Equal(0f, MaxDiff(plain, CrossModelPatching.Logits(model, model, batch, sites, HeadComponents.Query | HeadComponents.Value)));
    }

    /// <summary>
    /// When B differs from A only inside the blocks, the residual stream is embeddings + Σ (attention out + MLP out):
    /// copying every block's attention and MLP outputs from B makes A's stream B's, hence B's logits (the final norm
    /// and unembedding are shared). Head-level: if B's W_O and b_O equal A's too, B's head outputs z stand in for the
    /// attention outputs; and if only W_Q/K/V differ, B's q, k and v give B's z.
    /// </summary>
    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void PatchingEveryComponentReproducesTheSourceWhereTheArchitectureMakesItExact(string arch)
    {
        using var scope = NewDisposeScope();
        using var a = ModelFixtures.RandomModel(arch);
        using var batch = Batch(padded: true);
        using var _ = no_grad();
        Tensor Logits(HookedTransformer m) => m.Forward(batch.Tokens, batch.AttentionMask);

        using (var b = Variant(arch, n => n.StartsWith("blocks.")))
        {
            Assert.True(MaxDiff(Logits(a), Logits(b)) > 1e-2);
            var patched = CrossModelPatching.Logits(a, b, batch, [], wholeHooks: Every(a, "hook_attn_out", "hook_mlp_out"));
            Assert.True(MaxDiff(patched, Logits(b)) < 1e-5);
            // z alone cannot be exact when W_O differs.
            var zOnly = CrossModelPatching.Logits(a, b, batch, CrossModelPatching.AllHeads(a.Config), wholeHooks: Every(a, "hook_mlp_out"));
            Assert.True(MaxDiff(zOnly, Logits(b)) > 1e-3);
        }
        using (var b = Variant(arch, n => n.StartsWith("blocks.") && !n.EndsWith("W_O") && !n.EndsWith("b_O")))
        {
            var patched = CrossModelPatching.Logits(a, b, batch, CrossModelPatching.AllHeads(a.Config), wholeHooks: Every(a, "hook_mlp_out"));
            Assert.True(MaxDiff(patched, Logits(b)) < 1e-5);
        }
        using (var b = Variant(arch, n => n.EndsWith("W_Q") || n.EndsWith("W_K") || n.EndsWith("W_V") || n.EndsWith("b_Q") || n.EndsWith("b_K") || n.EndsWith("b_V")))
        {
            var qkv = HeadComponents.Query | HeadComponents.Key | HeadComponents.Value;
            var patched = CrossModelPatching.Logits(a, b, batch, CrossModelPatching.AllHeads(a.Config), qkv);
            Assert.True(MaxDiff(patched, Logits(b)) < 1e-5);
        }
    }

    [Fact]
    public void OutputSitesReplaceExactlyThoseHeadsAtThoseTokens()
    {
        using var scope = NewDisposeScope();
        using var a = ModelFixtures.RandomModel("neox");
        using var b = Variant("neox", n => n.StartsWith("blocks."));
        using var batch = Batch(padded: false);
        using var _ = no_grad();
        HeadSite[] sites = [new(0, 2, "site"), new(1, 0, PromptBatch.Last)];
        var (_, cache) = b.RunWithCache(batch.Tokens, n => n.EndsWith("attn.hook_z"));
        int[] site = batch.PositionsOf("site"), last = batch.PositionsOf(PromptBatch.Last);
        var expected = a.RunWithHooks(batch.Tokens, [
            ("blocks.0.attn.hook_z", (act, h) =>
            {
                var z = act.clone();
                for (int r = 0; r < 3; r++) z[r, site[r], 2] = cache["blocks.0.attn.hook_z"][r, site[r], 2];
                return z;
            }),
            ("blocks.1.attn.hook_z", (act, h) =>
            {
                var z = act.clone();
                for (int r = 0; r < 3; r++) z[r, last[r], 0] = cache["blocks.1.attn.hook_z"][r, last[r], 0];
                return z;
            })]);
        cache.Dispose();
        var patched = CrossModelPatching.Logits(a, b, batch, sites);
        Assert.True(MaxDiff(patched, expected) < 1e-6);
        Assert.True(MaxDiff(patched, a.Forward(batch.Tokens)) > 1e-4);
        double acc = CrossModelPatching.Accuracy(a, b, batch, sites, batchSize: 2);
        Assert.Equal(batch.AccuracyMetric().Evaluate(expected), acc, 6);
    }

    /// <summary>
    /// q/k/v at a site, written out: the head's query at the site token and its kv head's keys and values at every
    /// token up to it come from B; the head's output at the row's other tokens stays A's own.
    /// </summary>
    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void QkvSitesPatchTheQueryAtTheSiteAndKeysValuesUpToIt(string arch)
    {
        using var scope = NewDisposeScope();
        using var a = ModelFixtures.RandomModel(arch);
        using var b = Variant(arch, n => n.StartsWith("blocks."));
        using var batch = Batch(padded: false);
        using var _ = no_grad();
        const int layer = 1, head = 3;
        int kvHead = head / (a.Config.NHeads / a.Config.KvHeads);
        var site = batch.PositionsOf("site");
        var (__, src) = b.RunWithCache(batch.Tokens, n => n.StartsWith($"blocks.{layer}.attn.hook_"));
        var (___, own) = a.RunWithCache(batch.Tokens, n => n == $"blocks.{layer}.attn.hook_z");
        HookFunction Patch(string name, int h, Func<int, int, bool> at, Dictionary<string, Tensor> from) => (act, hp) =>
        {
            var x = act.clone();
            for (int r = 0; r < batch.Rows; r++)
            for (int p = 0; p < batch.Length; p++)
                if (at(r, p)) x[r, p, h] = from[name][r, p, h];
            return x;
        };
        var s = new Dictionary<string, Tensor>();
        foreach (var n in new[] { "hook_q", "hook_k", "hook_v" }) s[$"blocks.{layer}.attn.{n}"] = src[$"blocks.{layer}.attn.{n}"];
        var o = new Dictionary<string, Tensor> { [$"blocks.{layer}.attn.hook_z"] = own[$"blocks.{layer}.attn.hook_z"] };
        var expected = a.RunWithHooks(batch.Tokens, [
            ($"blocks.{layer}.attn.hook_q", Patch($"blocks.{layer}.attn.hook_q", head, (r, p) => p == site[r], s)),
            ($"blocks.{layer}.attn.hook_k", Patch($"blocks.{layer}.attn.hook_k", kvHead, (r, p) => p <= site[r], s)),
            ($"blocks.{layer}.attn.hook_v", Patch($"blocks.{layer}.attn.hook_v", kvHead, (r, p) => p <= site[r], s)),
            ($"blocks.{layer}.attn.hook_z", Patch($"blocks.{layer}.attn.hook_z", head, (r, p) => p != site[r], o)),
        ]);
        var patched = CrossModelPatching.Logits(a, b, batch, [new HeadSite(layer, head, "site")],
            HeadComponents.Query | HeadComponents.Key | HeadComponents.Value);
        Assert.True(MaxDiff(patched, expected) < 1e-6);
        Assert.True(MaxDiff(patched, a.Forward(batch.Tokens)) > 1e-4);
        src.Dispose();
        own.Dispose();
    }

    [Fact]
    public void DifferentConfigsAreRejectedNamingTheField()
    {
        using var scope = NewDisposeScope();
        using var a = ModelFixtures.RandomModel("gpt2");
        using var b = HookedTransformer.Create(ModelFixtures.Gpt2 with { NLayers = 3 }, 1);
        using var batch = Batch(padded: false);
        var ex = Assert.Throws<ModelMismatchException>(() => CrossModelPatching.Logits(a, b, batch, CrossModelPatching.AllHeads(a.Config)));
        Assert.Contains("NLayers: 2 vs 3", ex.Message);
    }
}
