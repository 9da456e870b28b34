using CircuitNotebooks.Circuits;
using CircuitNotebooks.FineTuning;
using Xunit;

namespace CircuitNotebooks.Tests.Circuits;

public class CircuitLoraPlannerTests
{
    private static readonly CircuitGraph G = new(4, 1, false);

    private static Circuit Before => TestCircuits.FromNamed(G, new Dictionary<string, float>
    {
        ["input->a0.h0<q>"] = 1.0f, ["a1.h0->m1"] = 2.0f, ["m2->logits"] = 0.5f,
    }, new Dictionary<string, float> { ["m0->m3"] = 10f });   // out of both circuits: must not count

    private static Circuit After => TestCircuits.FromNamed(G, new Dictionary<string, float>
    {
        ["input->a0.h0<q>"] = 1.5f,   // in both: |1.5 − 1| = 0.5 at layer 0
        ["m2->logits"] = 0.5f,        // in both, unchanged: 0
        ["a3.h0->logits"] = -3f,      // added: 3 at layer 3
        ["input->m3"] = 0.25f,        // added: input counts at layer 0, not the destination's layer 3
        ["a2.h0->a3.h0<v>"] = 1f,     // added: source layer 2, not destination layer 3
    }, new Dictionary<string, float> { ["m0->m3"] = -10f });
    // a1.h0->m1 removed: 2 at layer 1.

    [Fact]
    public void LayerChangeUsesSourceLayerAndInputAtZero()
    {
        var change = CircuitLoraPlanner.LayerEdgeChange(Before, After);
        Assert.Equal(new[] { 0.75, 2.0, 1.0, 3.0 }, change);
    }

    [Fact]
    public void RanksFollowCriticalLayers()
    {
        var plan = CircuitLoraPlanner.PlanFromCircuits(Before, After, otherRank: 8, criticalRank: 32, k: 2);
        Assert.Equal([3, 1], plan.CriticalLayers);
        Assert.Equal(new LayerRank(32, 64, true), plan.Layers[3]);
        Assert.Equal(new LayerRank(32, 64, true), plan.Layers[1]);
        Assert.Equal(new LayerRank(8, 16, false), plan.Layers[0]);
        Assert.Equal(new LayerRank(8, 16, false), plan.Layers[2]);
        Assert.Equal(4, plan.Layers.Count);
    }

    [Fact]
    public void MeanPlusStdRule()
    {
        // mean 1.6875, population std = sqrt(((0.9375)^2+(0.3125)^2+(0.6875)^2+(1.3125)^2)/4) ≈ 0.8867 → threshold ≈ 2.574
        Assert.Equal([3], CircuitLoraPlanner.CriticalLayers([0.75, 2.0, 1.0, 3.0], CriticalLayerRule.MeanPlusStd));
        Assert.Empty(CircuitLoraPlanner.CriticalLayers([1.0, 1.0, 1.0], CriticalLayerRule.MeanPlusStd));
    }

    [Fact]
    public void RandomControlIsSeededAndHasKLayers()
    {
        var a = CircuitLoraPlanner.RandomControl(24, 5, 16, 64, seed: 42);
        var b = CircuitLoraPlanner.RandomControl(24, 5, 16, 64, seed: 42);
        Assert.Equal(a.CriticalLayers, b.CriticalLayers);
        Assert.Equal(5, a.CriticalLayers.Distinct().Count());
        Assert.Equal(5, a.Layers.Values.Count(l => l.Rank == 64));
        Assert.Equal(19, a.Layers.Values.Count(l => l.Rank == 16));
    }

    // Pythia-1.4B LoRA on query_key_value, dense, dense_h_to_4h, dense_4h_to_h with A [r, d_in] and B [d_out, r].
    private static long PythiaLoraByHand(int rank) =>
        (long)rank * (2048 + 3 * 2048) + rank * (2048 + 2048) + rank * (2048 + 8192) + rank * (8192 + 2048);

    [Fact]
    public void PythiaCountsMatchHandShapes()
    {
        var cfg = TestCircuits.Pythia1_4B;
        Assert.Equal(24 * PythiaLoraByHand(32), 24 * LoraTargets.LayerParameters(cfg, LoraTargets.GptNeoXFused, 32));
        Assert.Equal(25_165_824, 24 * PythiaLoraByHand(32));
        // Paper's (16, 64), k = 5: 19 × 16 + 5 × 64 = 624 rank-units of 32,768 each.
        var plan = CircuitLoraPlanner.Plan(24, [0, 4, 6, 5, 2], 16, 64);
        Assert.Equal(19 * PythiaLoraByHand(16) + 5 * PythiaLoraByHand(64), plan.ParameterCount(cfg, LoraTargets.GptNeoXFused));
        Assert.Equal(624L * 32_768, plan.ParameterCount(cfg, LoraTargets.GptNeoXFused));
    }

    [Fact]
    public void MatchBudgetWithinToleranceOfPlainLora()
    {
        var cfg = TestCircuits.Pythia1_4B;
        var m = CircuitLoraPlanner.MatchBudget(cfg, LoraTargets.GptNeoXFused, targetRank: 32, k: 5, ratio: 4, tolerance: 0.02);
        long target = 24 * PythiaLoraByHand(32);
        long plan = (24 - 5) * PythiaLoraByHand(m.OtherRank) + 5 * PythiaLoraByHand(m.CriticalRank);
        Assert.Equal(target, m.TargetParameters);
        Assert.Equal(plan, m.PlanParameters);
        Assert.InRange(Math.Abs(plan - target) / (double)target, 0, 0.02);
        // By hand: r_o = 19 → r_c = 81 (ratio 4.26), r_o = 20 → r_c = round(77.6) = 78 (ratio 3.9, closest to 4).
        Assert.Equal((20, 78), (m.OtherRank, m.CriticalRank));
    }

    [Fact]
    public void SeparateQkvTargetsCountEachMap()
    {
        var cfg = TestCircuits.Gpt2Small;
        // GPT-2: W_Q, W_K, W_V, W_O are 768→768 each; W_in 768→3072, W_out 3072→768.
        Assert.Equal(4L * 8 * (768 + 768) + 2L * 8 * (768 + 3072), LoraTargets.LayerParameters(cfg, LoraTargets.AllSeparate(cfg), 8));
        Assert.Throws<ArgumentException>(() => LoraTargets.LayerParameters(cfg, [LoraTargets.Gate], 8));
        Assert.Throws<ArgumentException>(() => LoraTargets.LayerParameters(cfg, [LoraTargets.Qkv, LoraTargets.Q], 8));
    }
}
