using CircuitNotebooks.Circuits;
using CircuitNotebooks.Models;

namespace CircuitNotebooks.FineTuning;

/// <summary>
/// CircuitLoRA (Wang et al. 2025): place LoRA capacity where circuit edges changed most between the base
/// model's circuit and the circuit after an ordinary LoRA run.
/// </summary>
public static class CircuitLoraPlanner
{
    public const int DefaultCriticalLayers = 5;
    /// <summary>α = 2r, as the paper's LoRA (r=32, α=64) and CircuitLoRA (α_c = 2 r_c).</summary>
    public const double DefaultAlphaPerRank = 2;

    /// <summary>
    /// Total edge change per layer (length NLayers) over the union of in-circuit edges: |s_after − s_before| for an
    /// edge in both circuits, |s| for an edge in one only; each edge counts at its SOURCE node's layer, <c>input</c> at 0.
    /// </summary>
    public static double[] LayerEdgeChange(Circuit before, Circuit after)
    {
        if (!before.Graph.SameAs(after.Graph))
            throw new ArgumentException($"before/after circuits differ in graph or granularity: {before.Graph.ShapeKey} {before.Granularity} vs {after.Graph.ShapeKey} {after.Granularity}.");
        var graph = before.Graph;
        var perLayer = new double[graph.NLayers];
        for (int f = 0; f < graph.ForwardCount; f++)
            for (int d = 0; d < graph.BackwardCount; d++)
            {
                bool a = before.IsEdgeInCircuit(f, d), b = after.IsEdgeInCircuit(f, d);
                if (!a && !b) continue;
                double change = a && b ? Math.Abs(after.Score(f, d) - before.Score(f, d))
                    : Math.Abs(a ? before.Score(f, d) : after.Score(f, d));
                perLayer[graph.LayerOf(f)] += change;
            }
        return perLayer;
    }

    /// <summary>Critical layers ordered by decreasing change (ties: lower layer first).</summary>
    public static IReadOnlyList<int> CriticalLayers(IReadOnlyList<double> layerChange, CriticalLayerRule rule = CriticalLayerRule.TopK, int k = DefaultCriticalLayers)
    {
        var ranked = Enumerable.Range(0, layerChange.Count).OrderByDescending(l => layerChange[l]).ThenBy(l => l);
        if (rule == CriticalLayerRule.TopK)
        {
            if (k < 0 || k > layerChange.Count) throw new ArgumentOutOfRangeException(nameof(k), $"k = {k} outside 0..{layerChange.Count} layers.");
            return [.. ranked.Take(k)];
        }
        double mean = layerChange.Average();
        double std = Math.Sqrt(layerChange.Average(x => (x - mean) * (x - mean)));
        // Strictly above: with all layers equal nothing stands out, so nothing is critical.
        return [.. ranked.Where(l => layerChange[l] > mean + std)];
    }

    public static LoraRankPlan Plan(int nLayers, IReadOnlyList<int> criticalLayers, int otherRank, int criticalRank, double alphaPerRank = DefaultAlphaPerRank)
    {
        if (otherRank < 0 || criticalRank < 0) throw new ArgumentOutOfRangeException(nameof(otherRank), $"ranks must be ≥ 0 (got r_o={otherRank}, r_c={criticalRank}).");
        foreach (var l in criticalLayers)
            if ((uint)l >= (uint)nLayers) throw new ArgumentOutOfRangeException(nameof(criticalLayers), $"critical layer {l} outside 0..{nLayers - 1}.");
        var set = criticalLayers.ToHashSet();
        var layers = Enumerable.Range(0, nLayers).ToDictionary(l => l, l =>
        {
            int r = set.Contains(l) ? criticalRank : otherRank;
            return new LayerRank(r, alphaPerRank * r, set.Contains(l));
        });
        return new LoraRankPlan(layers, [.. criticalLayers], otherRank, criticalRank);
    }

    /// <summary>The full pipeline from two circuits to a rank plan.</summary>
    public static LoraRankPlan PlanFromCircuits(Circuit before, Circuit after, int otherRank, int criticalRank,
        int k = DefaultCriticalLayers, CriticalLayerRule rule = CriticalLayerRule.TopK, double alphaPerRank = DefaultAlphaPerRank)
    {
        var change = LayerEdgeChange(before, after);
        return Plan(before.Graph.NLayers, CriticalLayers(change, rule, k), otherRank, criticalRank, alphaPerRank);
    }

    /// <summary>Control: the same ranks on k layers drawn uniformly without replacement with a seeded generator.</summary>
    public static LoraRankPlan RandomControl(int nLayers, int k, int otherRank, int criticalRank, int seed, double alphaPerRank = DefaultAlphaPerRank)
    {
        if (k < 0 || k > nLayers) throw new ArgumentOutOfRangeException(nameof(k), $"k = {k} outside 0..{nLayers} layers.");
        var rng = new Random(seed);
        var layers = Enumerable.Range(0, nLayers).ToArray();
        rng.Shuffle(layers);
        return Plan(nLayers, [.. layers.Take(k).Order()], otherRank, criticalRank, alphaPerRank);
    }

    /// <summary>
    /// The CircuitLoRA plan for <paramref name="criticalLayers"/> with the parameter count of plain LoRA of rank
    /// <paramref name="loraRank"/> on every layer (every linear but the unembedding adapted, see
    /// <see cref="LoraTargets.AllSeparate"/>): <see cref="MatchBudget"/> picks (r_o, r_c), <see cref="Plan"/> places them.
    /// </summary>
    public static (LoraRankPlan Plan, BudgetMatch Budget) PlanMatchingLora(ModelConfig cfg, IReadOnlyList<int> criticalLayers, int loraRank)
    {
        var budget = MatchBudget(cfg, LoraTargets.AllSeparate(cfg), loraRank, criticalLayers.Count);
        return (Plan(cfg.NLayers, criticalLayers, budget.OtherRank, budget.CriticalRank), budget);
    }

    /// <summary>
    /// Ranks (r_o, r_c) for k critical layers whose parameter count matches plain LoRA of rank
    /// <paramref name="targetRank"/> on every layer within <paramref name="tolerance"/> (relative). For each
    /// r_o ≤ targetRank, r_c is the integer that best fills the budget; among candidates within tolerance the one
    /// with r_c / r_o closest to <paramref name="ratio"/> wins (then the smaller error). Throws if none fits.
    /// </summary>
    public static BudgetMatch MatchBudget(ModelConfig cfg, IReadOnlyList<string> loraTargets, int targetRank,
        int k = DefaultCriticalLayers, double ratio = 4, double tolerance = 0.02)
    {
        int n = cfg.NLayers;
        if (targetRank <= 0) throw new ArgumentOutOfRangeException(nameof(targetRank), $"target rank must be positive (got {targetRank}).");
        if (k <= 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"k = {k} outside 1..{n} layers.");
        long target = n * LoraTargets.LayerParameters(cfg, loraTargets, targetRank);
        var critical = Enumerable.Range(0, k).ToArray(); // which layers does not matter: all layers have the same shapes
        BudgetMatch? best = null;
        double bestRatioGap = double.MaxValue;
        for (int ro = 1; ro <= targetRank; ro++)
        {
            int rc = (int)Math.Round(((double)n * targetRank - (double)(n - k) * ro) / k, MidpointRounding.AwayFromZero);
            if (rc < ro) continue;
            long count = Plan(n, critical, ro, rc).ParameterCount(cfg, loraTargets);
            var m = new BudgetMatch(ro, rc, count, target);
            if (Math.Abs(m.RelativeError) > tolerance) continue;
            double gap = Math.Abs((double)rc / ro - ratio);
            if (best is null || gap < bestRatioGap - 1e-12 || (Math.Abs(gap - bestRatioGap) <= 1e-12 && Math.Abs(m.RelativeError) < Math.Abs(best.RelativeError)))
            { best = m; bestRatioGap = gap; }
        }
        return best ?? throw new InvalidOperationException(
            $"no (r_o, r_c) with r_c ≥ r_o matches LoRA rank {targetRank} on {cfg.Fingerprint} within {tolerance:P1} for k = {k}.");
    }
}
