using CircuitNotebooks.Hooks;
using CircuitNotebooks.FineTuning;
using CircuitNotebooks.Models;
using CircuitNotebooks.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.FineTuning;

public class LoraTests
{
    public LoraTests() => SingleThreadedTorch.Ensure();

    private static Tensor Tokens(int b, int p, int seed = 3) =>
        randint(0, 40, [b, p], dtype: ScalarType.Int64, generator: new Generator((ulong)seed));

    private static void RandomizeB(LoraModel lora, int seed)
    {
        using var _ = no_grad();
        var gen = new Generator((ulong)seed);
        foreach (var m in lora.Modules) m.Adapter.B.copy_(randn(m.Adapter.B.shape, generator: gen) * 0.2);
    }

    /// <summary>
    /// The cache's per-head outputs must be what the adapted model computed: summed over heads (plus b_O) they are
    /// hook_attn_out, and on an unadapted model they agree with the hook_result the model emits.
    /// </summary>
    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void CachedHeadResultsIncludeTheOutputAdapter(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        using var lora = LoraModel.Attach(model, new LoraConfig { Rank = 2, Alpha = 4, Targets = [LoraTargets.O] }, seed: 5);
        RandomizeB(lora, 9);
        var (_, cache) = model.RunWithCache(Tokens(2, 6));
        using (cache)
        {
            var (stack, labels) = cache.StackHeadResults();
            int H = model.Config.NHeads;
            Assert.Equal(model.Config.NLayers * H, labels.Length);
            for (int l = 0; l < model.Config.NLayers; l++)
            {
                var sum = stack.narrow(0, l * H, H).sum(0L, false);
                if (model.Blocks[l].attn.b_O is { } bO) sum = sum + bO.detach();
                double diff = (sum - cache[$"blocks.{l}.hook_attn_out"]).abs().max().item<float>();
                Assert.True(diff < 1e-5, $"layer {l}: Σ_h head results differ from hook_attn_out by {diff:g3}");
            }
        }
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void ZeroBLeavesLogitsBitExact(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        using var _ = no_grad();
        var tokens = Tokens(2, 9);
        var mask = ones(2, 9, dtype: ScalarType.Int64);
        mask[1, 7] = 0; mask[1, 8] = 0;
        var plain = model.Forward(tokens, mask);
        using var lora = LoraModel.Attach(model, new LoraConfig { Rank = 3, Alpha = 6 }, seed: 5);
        Assert.All(lora.Modules, m => Assert.NotEqual(0.0, m.Adapter.A.abs().sum().item<float>()));
        var adapted = model.Forward(tokens, mask);
        Assert.True(plain.eq(adapted).all().item<bool>(), "LoRA with B = 0 changed the logits");
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void MergedEqualsUnmergedAndUnmergeRestoresBase(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        using var _ = no_grad();
        var tokens = Tokens(2, 8);
        var baseLogits = model.Forward(tokens);
        var baseWeights = model.StateDict();
        using var lora = LoraModel.Attach(model, new LoraConfig { Rank = 2, Alpha = 5 }, seed: 7);
        RandomizeB(lora, 11);
        var unmerged = model.Forward(tokens);
        Assert.True((unmerged - baseLogits).abs().max().item<float>() > 1e-2, "random B should change the logits");

        lora.Merge();
        Assert.All(model.Blocks, b => { Assert.Empty(b.attn.Adapters); Assert.Empty(b.mlp.Adapters); });
        var merged = model.Forward(tokens);
        Assert.True(merged.allclose(unmerged, rtol: 1e-4, atol: 1e-4), $"max diff {(merged - unmerged).abs().max().item<float>()}");

        lora.Unmerge();
        Assert.True(model.Forward(tokens).allclose(unmerged, rtol: 1e-4, atol: 1e-4));
        lora.Detach();
        Assert.True(model.Forward(tokens).allclose(baseLogits, rtol: 1e-5, atol: 1e-5));
        foreach (var (name, p) in model.NamedParameters())
            Assert.True(p.allclose(baseWeights[name], rtol: 1e-5, atol: 1e-6), name);
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void MergedDeltaMatchesAdapterOutputPerLinear(string arch)
    {
        // The adapter contributes x·A·B·α/r; the merged weight must contribute exactly that through the TL layout.
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        using var _ = no_grad();
        using var lora = LoraModel.Attach(model, new LoraConfig { Rank = 2, Alpha = 3 }, seed: 1);
        RandomizeB(lora, 2);
        var gen = new Generator(9);
        foreach (var m in lora.Modules)
        {
            var x = randn(3, m.Target.DIn, generator: gen);
            var a = m.Adapter.A.to_type(ScalarType.Float64);
            var bb = m.Adapter.B.to_type(ScalarType.Float64);
            var expected = x.to_type(ScalarType.Float64).matmul(a).matmul(bb) * (3.0 / 2.0);
            Assert.True(m.Adapter.Apply(x).to_type(ScalarType.Float64).allclose(expected, rtol: 1e-5, atol: 1e-6), m.Target.Name);
            // Flatten the TL-layout delta back the way the model does for its fast path.
            var delta = m.Target.ToWeightLayout(m.Adapter.DeltaWeight());
            var flat = m.Target.Key switch
            {
                "W_Q" or "W_K" or "W_V" => delta.permute(1, 0, 2).reshape(m.Target.DIn, m.Target.DOut),
                "W_O" => delta.reshape(m.Target.DIn, m.Target.DOut),
                _ => delta,
            };
            Assert.True(x.matmul(flat).to_type(ScalarType.Float64).allclose(expected, rtol: 1e-5, atol: 1e-6), m.Target.Name);
        }
    }

    /// <summary>Closed form Σ r·(d_in + d_out) from the config numbers alone.</summary>
    private static long ExpectedLoraParams(ModelConfig c, Func<int, int> rank, bool attnOnly = false)
    {
        long total = 0;
        long d = c.DModel, q = (long)c.NHeads * c.DHead, kv = (long)c.KvHeads * c.DHead, f = c.DMlp;
        for (int l = 0; l < c.NLayers; l++)
        {
            long r = rank(l);
            total += r * (d + q) + 2 * r * (d + kv) + r * (q + d);
            if (attnOnly) continue;
            total += r * (d + f) + r * (f + d);
            if (c.GatedMlp) total += r * (d + f);
        }
        return total;
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void TrainableCountIsClosedForm(string arch)
    {
        using var model = ModelFixtures.RandomModel(arch);
        var cfg = model.Config;
        long baseTotal = model.NamedParameters().Sum(p => p.Param.shape.Aggregate(1L, (a, b) => a * b));

        using (var lora = LoraModel.Attach(model, new LoraConfig { Rank = 4, Alpha = 8 }, 0))
        {
            Assert.Equal(ExpectedLoraParams(cfg, _ => 4), lora.TrainableParameterCount);
            Assert.Equal(ExpectedLoraParams(cfg, _ => 4), lora.TrainableParameters.Sum(p => p.Param.numel()));
            Assert.Equal((double)ExpectedLoraParams(cfg, _ => 4) / baseTotal, lora.TrainableRatio, 12);
        }
        // CircuitLoRA-like plan: layer 1 critical (rank 6), others rank 2; attention only.
        var plan = new Dictionary<int, (int, double)> { [1] = (6, 12) };
        var cfgPlan = new LoraConfig { Rank = 2, Alpha = 4, Targets = ["attn.*"] }.WithLayerPlan(plan, learningRate: 1e-3);
        using (var lora = LoraModel.Attach(model, cfgPlan, 0))
        {
            Assert.Equal(ExpectedLoraParams(cfg, l => l == 1 ? 6 : 2, attnOnly: true), lora.TrainableParameterCount);
            Assert.All(lora.Modules.Where(m => m.Target.Layer == 1), m => Assert.Equal(2.0, m.Adapter.Scale));
            var groups = lora.ParameterGroups;
            Assert.Equal(2, groups.Count);
            Assert.Equal(1e-3, groups.Single(g => g.LearningRate is not null).LearningRate);
            Assert.Equal(8, groups.Single(g => g.LearningRate is not null).Parameters.Count); // 4 linears × (A, B)
        }
    }

    [Fact]
    public void GqaKeyValueAdaptersUseKvWidth()
    {
        using var model = ModelFixtures.RandomModel("llama");
        var c = model.Config;
        Assert.True(c.KvHeads < c.NHeads);
        using var lora = LoraModel.Attach(model, new LoraConfig { Rank = 3, Alpha = 3, Targets = ["attn.W_K", "attn.W_V"] }, 0);
        Assert.Equal(2 * c.NLayers, lora.Modules.Count);
        Assert.All(lora.Modules, m => Assert.Equal(new long[] { 3, c.KvHeads * c.DHead }, m.Adapter.B.shape));
    }

    [Fact]
    public void TargetPatternsSelectModules()
    {
        using var model = ModelFixtures.RandomModel("llama");
        string[] Names(LoraConfig cfg)
        {
            using var l = LoraModel.Attach(model, cfg, 0);
            return l.Modules.Select(m => m.Target.Name).ToArray();
        }
        Assert.Equal(["blocks.0.mlp.W_in", "blocks.0.mlp.W_gate", "blocks.0.mlp.W_out", "blocks.1.mlp.W_in", "blocks.1.mlp.W_gate", "blocks.1.mlp.W_out"],
            Names(new LoraConfig { Targets = ["mlp.W_*"] }));
        Assert.Equal(["blocks.1.attn.W_Q", "blocks.1.attn.W_K"], Names(new LoraConfig { Targets = [@"re:^blocks\.1\.attn\.W_[QK]$"] }));
        Assert.Equal(["blocks.0.attn.W_O"], Names(new LoraConfig { Targets = ["attn.W_O"], Layers = [0] }));
        Assert.Equal(["blocks.1.mlp.W_out"], Names(new LoraConfig { Targets = ["blocks.1.mlp.W_out"] }));
        var ex = Assert.Throws<ArgumentException>(() => LoraModel.Attach(model, new LoraConfig { Targets = ["attn.W_X"] }, 0));
        Assert.Contains("attn.W_X", ex.Message);
        Assert.Throws<ArgumentException>(() => LoraModel.Attach(model, new LoraConfig { Targets = ["re:("] }, 0));
        Assert.Throws<ArgumentException>(() => LoraModel.Attach(model, new LoraConfig().WithLayerPlan(new Dictionary<int, (int, double)> { [7] = (4, 8) }), 0));
    }

    [Fact]
    public void BaseIsFrozenAndOnlyAdaptersGetGradients()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel("gpt2");
        using var lora = LoraModel.Attach(model, new LoraConfig { Rank = 2, Alpha = 4 }, 3);
        RandomizeB(lora, 4);
        Assert.All(model.NamedParameters(), p => Assert.False(p.Param.requires_grad, p.Name));
        model.Forward(Tokens(1, 6)).sum().backward();
        Assert.All(model.NamedParameters(), p => Assert.Null(p.Param.grad));
        Assert.All(lora.TrainableParameters, p => Assert.NotNull(p.Param.grad));
        lora.Detach();
        Assert.All(model.NamedParameters(), p => Assert.True(p.Param.requires_grad, p.Name));
    }

    [Fact]
    public void AInitIsSeededKaimingUniform()
    {
        using var model = ModelFixtures.RandomModel("neox");
        float[] A(int seed)
        {
            using var l = LoraModel.Attach(model, new LoraConfig { Rank = 4, Alpha = 8 }, seed);
            var m = l.Modules[4]; // mlp.W_in, d_in = d_model
            var a = m.Adapter.A.data<float>().ToArray();
            double bound = 1 / Math.Sqrt(m.Target.DIn);
            Assert.All(a, v => Assert.InRange(Math.Abs(v), 0, bound));
            Assert.True(a.Max() > 0.5 * bound && a.Min() < -0.5 * bound, "A should fill its Kaiming range");
            Assert.All(l.Modules, mm => Assert.Equal(0f, mm.Adapter.B.abs().max().item<float>()));
            return a;
        }
        Assert.Equal(A(1), A(1));
        Assert.NotEqual(A(1), A(2));
    }
}
