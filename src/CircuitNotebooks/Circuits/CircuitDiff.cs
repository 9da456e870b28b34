namespace CircuitNotebooks.Circuits;

/// <summary>
/// Changes in one layer. Edges count at their SOURCE node's layer (<c>input</c> → 0); nodes at their own layer
/// (<c>logits</c> → NLayers, the one extra row).
/// </summary>
public sealed record LayerChangeCounts(int Layer, int NodesAdded, int NodesRemoved, int EdgesAdded, int EdgesRemoved)
{
    public int NodeChanges => NodesAdded + NodesRemoved;
    public int EdgeChanges => EdgesAdded + EdgesRemoved;
}

/// <summary>
/// How circuit <c>To</c> differs from circuit <c>From</c> (indices into the compared list). Jaccard of two empty
/// sets is 1. Weighted edge Jaccard = Σ min(|a|,|b|) / Σ max(|a|,|b|) with a, b the scores of in-circuit edges
/// (0 where an edge is out).
/// </summary>
public sealed partial record CircuitDiff(
    int FromIndex, int ToIndex, string FromLabel, string ToLabel,
    int NodesFrom, int NodesTo, int EdgesFrom, int EdgesTo,
    double NodeJaccard, double EdgeJaccard, double WeightedEdgeJaccard,
    IReadOnlyList<string> AddedNodes, IReadOnlyList<string> RemovedNodes,
    IReadOnlyList<string> AddedEdges, IReadOnlyList<string> RemovedEdges,
    int EdgeChangesTouchingChangedNodes,
    IReadOnlyList<LayerChangeCounts> PerLayer)
{
    public int NodeChanges => AddedNodes.Count + RemovedNodes.Count;
    public int EdgeChanges => AddedEdges.Count + RemovedEdges.Count;
    /// <summary>Share of edge membership flips whose source or destination node was added or removed (0 if none flipped).</summary>
    public double ShareEdgeChangesTouchingChangedNodes => EdgeChanges == 0 ? 0 : (double)EdgeChangesTouchingChangedNodes / EdgeChanges;
}

/// <summary>Diffs across an ordered list of circuits (e.g. checkpoints): each vs the first, and each vs its predecessor.</summary>
public sealed partial record CircuitSeriesComparison(IReadOnlyList<CircuitDiff> VsBase, IReadOnlyList<CircuitDiff> VsPrevious);
