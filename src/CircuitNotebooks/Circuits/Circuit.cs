namespace CircuitNotebooks.Circuits;

/// <summary>
/// Edge scores over a <see cref="CircuitGraph"/> plus which edges and nodes are in the circuit. Immutable: selection,
/// pruning and composition return new circuits. Arrays are dense and row-major [ForwardCount, DestinationCount]
/// (see <see cref="CircuitGraph"/>); entries that are not real edges are always score 0 and never in the circuit.
/// Invariant: every in-circuit edge has both endpoint nodes in the circuit.
/// </summary>
public sealed partial class Circuit
{
    internal readonly float[] ScoreArray;
    internal readonly bool[] EdgeArray;
    internal readonly bool[] NodeArray;

    /// <summary>The edge index of the arrays (its granularity says whether destinations are q/k/v inputs or nodes).</summary>
    public CircuitGraph Graph { get; }
    public EdgeGranularity Granularity => Graph.Granularity;
    public CircuitMetadata Metadata { get; }

    private Circuit(CircuitGraph graph, float[] scores, bool[] edges, bool[] nodes, CircuitMetadata metadata)
    {
        Graph = graph; ScoreArray = scores; EdgeArray = edges; NodeArray = nodes; Metadata = metadata;
    }

    /// <summary>
    /// The entry point for attribution: a dense [ForwardCount, BackwardCount] row-major score array (what EAP/EAP-IG
    /// accumulate), no edge selected yet. Entries outside each column's upstream prefix are ignored (set to 0).
    /// </summary>
    public static Circuit FromScores(CircuitGraph graph, float[] scores, CircuitMetadata? metadata = null) =>
        Create(graph.At(EdgeGranularity.Qkv), scores, null, null, metadata);

    /// <summary>
    /// General constructor. <paramref name="edges"/> null → none selected; <paramref name="nodes"/> null → derived
    /// from the edges (a node is in iff it touches an in-circuit edge). Arrays are copied.
    /// </summary>
    public static Circuit Create(CircuitGraph graph, float[] scores, bool[]? edges, bool[]? nodes, CircuitMetadata? metadata = null)
    {
        if (scores.Length != graph.DenseLength)
            throw new ArgumentException($"scores: expected {graph.ForwardCount}×{graph.BackwardCount} = {graph.DenseLength} entries " +
                $"for graph {graph.ShapeKey} ({graph.Granularity}), got {scores.Length}.", nameof(scores));
        if (edges is not null && edges.Length != graph.DenseLength)
            throw new ArgumentException($"edges: expected {graph.DenseLength} entries, got {edges.Length}.", nameof(edges));
        if (nodes is not null && nodes.Length != graph.NodeCount)
            throw new ArgumentException($"nodes: expected {graph.NodeCount} entries, got {nodes.Length}.", nameof(nodes));

        var s = new float[graph.DenseLength];
        var e = new bool[graph.DenseLength];
        for (int f = 0; f < graph.ForwardCount; f++)
            for (int d = 0; d < graph.BackwardCount; d++)
            {
                int i = graph.EdgeIndex(f, d);
                bool real = graph.IsRealEdge(f, d);
                if (real)
                {
                    if (!float.IsFinite(scores[i]))
                        throw new ArgumentException($"scores: edge {graph.EdgeName(f, d)} has non-finite score {scores[i]}.", nameof(scores));
                    s[i] = scores[i];
                }
                if (edges is not null && edges[i])
                {
                    if (!real) throw new ArgumentException(
                        $"edges: ({graph.ForwardNames[f]} → {graph.BackwardNames[d]}) is not an edge of graph {graph.ShapeKey}.", nameof(edges));
                    e[i] = true;
                }
            }
        var derived = NodesOf(graph, e);
        bool[] n;
        if (nodes is null) n = derived;
        else
        {
            for (int k = 0; k < derived.Length; k++)
                if (derived[k] && !nodes[k])
                    throw new ArgumentException($"nodes: '{graph.NodeNames[k]}' has in-circuit edges but is marked out of the circuit.", nameof(nodes));
            n = (bool[])nodes.Clone();
        }
        return new Circuit(graph, s, e, n, metadata ?? new CircuitMetadata());
    }

    internal static bool[] NodesOf(CircuitGraph graph, bool[] edges)
    {
        var nodes = new bool[graph.NodeCount];
        for (int i = 0; i < edges.Length; i++)
            if (edges[i]) { nodes[graph.ForwardOf(i)] = true; nodes[graph.BackwardNode(graph.BackwardOf(i))] = true; }
        return nodes;
    }

    /// <summary>Same scores, a new edge selection; nodes derived from it.</summary>
    public Circuit WithEdges(bool[] edges, CircuitMetadata? metadata = null) => Create(Graph, ScoreArray, edges, null, metadata ?? Metadata);
    public Circuit WithMetadata(CircuitMetadata metadata) => new(Graph, ScoreArray, EdgeArray, NodeArray, metadata);

    public float Score(int forward, int destination) => ScoreArray[Graph.EdgeIndex(forward, destination)];
    public bool IsEdgeInCircuit(int forward, int destination) => EdgeArray[Graph.EdgeIndex(forward, destination)];
    public bool IsNodeInCircuit(int node) => NodeArray[node];

    /// <summary>Row-major scores [ForwardCount, DestinationCount] (a view; do not cast back to an array and write).</summary>
    public IReadOnlyList<float> Scores => ScoreArray;
    /// <summary>
    /// Row-major in-circuit edge mask [ForwardCount, DestinationCount]. For faithfulness at Qkv granularity: backward
    /// input b receives source f from the current run iff mask[f * BackwardCount + b], else from the corrupted run.
    /// </summary>
    public IReadOnlyList<bool> EdgeMask => EdgeArray;
    /// <summary>Indexed by node id (forward indices, then logits).</summary>
    public IReadOnlyList<bool> NodeMask => NodeArray;

    public float[] CopyScores() => (float[])ScoreArray.Clone();
    public bool[] CopyEdgeMask() => (bool[])EdgeArray.Clone();
    public bool[] CopyNodeMask() => (bool[])NodeArray.Clone();

    public int EdgeCountInCircuit => EdgeArray.Count(x => x);
    public int NodeCountInCircuit => NodeArray.Count(x => x);

    public IEnumerable<CircuitEdge> EdgesInCircuit()
    {
        for (int i = 0; i < EdgeArray.Length; i++)
            if (EdgeArray[i])
            {
                int f = Graph.ForwardOf(i), d = Graph.BackwardOf(i);
                yield return new CircuitEdge(f, d, Graph.EdgeName(f, d), ScoreArray[i]);
            }
    }

    public IEnumerable<string> NodesInCircuit() =>
        Enumerable.Range(0, NodeArray.Length).Where(n => NodeArray[n]).Select(n => Graph.NodeNames[n]);

    public override string ToString() =>
        $"Circuit({Metadata.Label ?? Metadata.Task ?? "unnamed"}, {Graph.ShapeKey}, {Granularity}, {NodeCountInCircuit} nodes, {EdgeCountInCircuit} edges)";
}
