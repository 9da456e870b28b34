namespace CircuitNotebooks.Circuits;

/// <summary>Whether a circuit's destinations are the separate q/k/v/MLP/logits inputs or whole nodes.</summary>
public enum EdgeGranularity
{
    /// <summary>Destinations are backward inputs (q, k, v per head; MLP; logits): what attribution scores and patching use.</summary>
    Qkv,
    /// <summary>Destinations are node ids (q/k/v of a head merged): the EAP-IG "head-level" view.</summary>
    Head,
}

/// <summary>
/// Indexing of a circuit's dense [ForwardCount, DestinationCount] row-major arrays for one granularity.
/// At <see cref="EdgeGranularity.Head"/> the destination index is the node id (the <c>input</c> column has no
/// real edges), which keeps node and destination ids the same.
/// </summary>
public sealed class EdgeLayout
{
    public CircuitGraph Graph { get; }
    public EdgeGranularity Granularity { get; }
    public int ForwardCount => Graph.ForwardCount;
    public int DestinationCount { get; }
    public int Length => ForwardCount * DestinationCount;
    public int EdgeCount { get; }
    private readonly int[] _prefix;

    public EdgeLayout(CircuitGraph graph, EdgeGranularity granularity)
    {
        Graph = graph; Granularity = granularity;
        DestinationCount = granularity == EdgeGranularity.Qkv ? graph.BackwardCount : graph.NodeCount;
        _prefix = new int[DestinationCount];
        if (granularity == EdgeGranularity.Qkv)
            for (int b = 0; b < graph.BackwardCount; b++) _prefix[b] = graph.PrefixLength(b);
        else
            for (int b = 0; b < graph.BackwardCount; b++) _prefix[graph.BackwardNode(b)] = graph.PrefixLength(b);
        EdgeCount = _prefix.Sum();
        var owned = new List<int>[graph.NodeCount];
        for (int n = 0; n < owned.Length; n++) owned[n] = [];
        for (int d = 0; d < DestinationCount; d++)
            if (_prefix[d] > 0) owned[DestinationNode(d)].Add(d);
        _destinationsOf = owned.Select(l => l.ToArray()).ToArray();
    }

    private readonly int[][] _destinationsOf;

    /// <summary>Destinations (inputs) owned by a node: q/k/v of a head, the MLP input, logits; none for <c>input</c>.</summary>
    public IReadOnlyList<int> DestinationsOf(int node) => _destinationsOf[node];

    public int Index(int forward, int destination) => forward * DestinationCount + destination;
    public int ForwardOf(int index) => index / DestinationCount;
    public int DestinationOf(int index) => index % DestinationCount;
    public int PrefixLength(int destination) => _prefix[destination];
    public bool IsReal(int forward, int destination) => forward < _prefix[destination];
    public bool IsRealIndex(int index) => IsReal(ForwardOf(index), DestinationOf(index));

    /// <summary>Node id that owns a destination.</summary>
    public int DestinationNode(int destination) =>
        Granularity == EdgeGranularity.Qkv ? Graph.BackwardNode(destination) : destination;

    public string DestinationName(int destination) =>
        Granularity == EdgeGranularity.Qkv ? Graph.BackwardNames[destination] : Graph.NodeNames[destination];

    public string EdgeName(int forward, int destination) => $"{Graph.ForwardNames[forward]}->{DestinationName(destination)}";

    /// <summary>All real edge indices in row-major order.</summary>
    public IEnumerable<int> RealEdges()
    {
        for (int f = 0; f < ForwardCount; f++)
            for (int d = 0; d < DestinationCount; d++)
                if (f < _prefix[d]) yield return Index(f, d);
    }

    public bool SameAs(EdgeLayout other) => Granularity == other.Granularity && Graph.SameShape(other.Graph);
}
