using CircuitNotebooks.FineTuning;

// TEMPORARY: old names the notebook layer (src/CircuitNotebooks.Interactive, rewritten on another branch) still uses,
// so the CLI that references it keeps building. Delete this file once that layer follows the new API.
#pragma warning disable CS1591

namespace CircuitNotebooks.Circuits
{
    public sealed partial class Circuit
    {
        [Obsolete("Use Graph (the one edge index).")] public CircuitGraph Layout => Graph;
    }

    public sealed partial class CircuitGraph
    {
        [Obsolete("Use DenseLength.")] public int Length => DenseLength;
        [Obsolete("Use BackwardOf.")] public int DestinationOf(int index) => BackwardOf(index);
        [Obsolete("Use BackwardNode.")] public int DestinationNode(int destination) => BackwardNode(destination);
        [Obsolete("Use BackwardNames[destination].")] public string DestinationName(int destination) => BackwardNames[destination];
    }
}

namespace CircuitNotebooks.Circuits.Attribution
{
    public sealed partial record EdgeScores
    {
        [Obsolete("Use Graph.")] public CircuitGraph Layout => Graph;
        [Obsolete("Use Graph.RealEdgeMask().")] public bool[] RealEdges => Graph.RealEdgeMask();
    }
}

namespace CircuitNotebooks.FineTuning
{
    [Obsolete("Renamed LoraRankPlan.")]
    public sealed record LoRaRankPlan(IReadOnlyDictionary<int, LayerRank> Layers);
}
