using CircuitNotebooks.Models;

namespace CircuitNotebooks.FineTuning;

/// <summary>LoRA settings for every adapted linear of one layer.</summary>
public sealed record LayerRank(int Rank, double Alpha, bool Critical);

/// <summary>Per-layer LoRA ranks: <see cref="CriticalRank"/> on <see cref="CriticalLayers"/>, <see cref="OtherRank"/> elsewhere.</summary>
public sealed partial record LoRaRankPlan(
    IReadOnlyDictionary<int, LayerRank> Layers, IReadOnlyList<int> CriticalLayers, int OtherRank, int CriticalRank)
{
    /// <summary>Trainable LoRA parameters of the plan (closed form, see <see cref="LoRaTargets.LayerParameters"/>).</summary>
    public long ParameterCount(ModelConfig cfg, IReadOnlyList<string> targets) =>
        Layers.Values.Sum(l => LoRaTargets.LayerParameters(cfg, targets, l.Rank));
}

/// <summary>Critical-layer rule: top k by total edge change, or every layer above mean + 1 std (population std).</summary>
public enum CriticalLayerRule { TopK, MeanPlusStd }

/// <summary>Result of <see cref="CircuitLoRaPlanner.MatchBudget"/>: ranks and how close the counts came.</summary>
public sealed record BudgetMatch(int OtherRank, int CriticalRank, long PlanParameters, long TargetParameters)
{
    public double RelativeError => (double)(PlanParameters - TargetParameters) / TargetParameters;
}
