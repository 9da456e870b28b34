using CircuitNotebooks.Models;

namespace CircuitNotebooks.FineTuning;

/// <summary>LoRA settings for every adapted linear of one layer.</summary>
public sealed record LayerRank(int Rank, double Alpha, bool Critical);

/// <summary>Per-layer LoRA ranks: <see cref="CriticalRank"/> on <see cref="CriticalLayers"/>, <see cref="OtherRank"/> elsewhere.</summary>
public sealed partial record LoraRankPlan(
    IReadOnlyDictionary<int, LayerRank> Layers, IReadOnlyList<int> CriticalLayers, int OtherRank, int CriticalRank)
{
    /// <summary>Trainable LoRA parameters of the plan (closed form, see <see cref="LoraTargets.LayerParameters"/>).</summary>
    public long ParameterCount(ModelConfig cfg, IReadOnlyList<string> targets) =>
        Layers.Values.Sum(l => LoraTargets.LayerParameters(cfg, targets, l.Rank));

    /// <summary>
    /// The adapter config of this plan: <paramref name="template"/>'s targets, dropout and learning rate, with every
    /// planned layer's rank and α (layers outside the plan get r_o and its α).
    /// </summary>
    public LoraConfig ToLoraConfig(LoraConfig? template = null)
    {
        double otherAlpha = Layers.Values.FirstOrDefault(l => !l.Critical)?.Alpha ?? CircuitLoraPlanner.DefaultAlphaPerRank * OtherRank;
        return ((template ?? new LoraConfig()) with { Rank = OtherRank, Alpha = otherAlpha })
            .WithLayerPlan(Layers.ToDictionary(kv => kv.Key, kv => (kv.Value.Rank, kv.Value.Alpha)));
    }
}

/// <summary>Critical-layer rule: top k by total edge change, or every layer above mean + 1 std (population std).</summary>
public enum CriticalLayerRule { TopK, MeanPlusStd }

/// <summary>Result of <see cref="CircuitLoraPlanner.MatchBudget"/>: ranks and how close the counts came.</summary>
public sealed record BudgetMatch(int OtherRank, int CriticalRank, long PlanParameters, long TargetParameters)
{
    public double RelativeError => (double)(PlanParameters - TargetParameters) / TargetParameters;
}
