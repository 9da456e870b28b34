namespace CircuitNotebooks.Circuits;

/// <summary>
/// Choosing which edges form the circuit from its scores. Every method replaces the current selection; nodes are
/// then the endpoints of the chosen edges (prune afterwards with <see cref="CircuitPruning"/>). Ties are broken by
/// row-major edge index (earlier source first) so results are deterministic.
/// </summary>
public static class CircuitSelection
{
    /// <summary>Paper default edge budget: 5 % of all real edges.</summary>
    public const double DefaultFraction = 0.05;

    public static Circuit TopN(Circuit circuit, int n, ScoreRanking ranking = ScoreRanking.Absolute)
    {
        var graph = circuit.Graph;
        if (n < 0 || n > graph.EdgeCount)
            throw new ArgumentOutOfRangeException(nameof(n), $"edge count {n} outside 0..{graph.EdgeCount} (real edges of {graph.ShapeKey}).");
        var order = graph.RealEdges().ToArray();
        // Array.Sort is unstable, so the comparison itself breaks ties by index.
        Array.Sort(order, (a, b) => Compare(circuit, ranking, a, b));
        var edges = new bool[graph.DenseLength];
        for (int k = 0; k < n; k++) edges[order[k]] = true;
        return circuit.WithEdges(edges);
    }

    /// <summary>Top round(fraction × real edges) edges; the paper uses 5 %.</summary>
    public static Circuit TopFraction(Circuit circuit, double fraction = DefaultFraction, ScoreRanking ranking = ScoreRanking.Absolute)
    {
        if (!(fraction >= 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), $"fraction {fraction} outside [0, 1].");
        return TopN(circuit, EdgesForFraction(circuit.Graph.EdgeCount, fraction), ranking);
    }

    public static int EdgesForFraction(int realEdges, double fraction) =>
        (int)Math.Round(fraction * realEdges, MidpointRounding.AwayFromZero);

    /// <summary>All real edges whose key (|score| or score) is ≥ <paramref name="threshold"/>.</summary>
    public static Circuit Threshold(Circuit circuit, float threshold, ScoreRanking ranking = ScoreRanking.Absolute)
    {
        var edges = new bool[circuit.Graph.DenseLength];
        foreach (var i in circuit.Graph.RealEdges())
            edges[i] = Key(circuit.ScoreArray[i], ranking) >= threshold;
        return circuit.WithEdges(edges);
    }

    /// <summary>
    /// EAP-IG's greedy selection: start from <c>logits</c>; repeatedly add the best-ranked edge whose destination node
    /// is already in the circuit, and when its source node is new, make that node's incoming edges candidates. The
    /// result is connected to logits by construction. Stops early if candidates run out.
    /// </summary>
    public static Circuit Greedy(Circuit circuit, int n, ScoreRanking ranking = ScoreRanking.Absolute)
    {
        var graph = circuit.Graph;
        if (n < 0 || n > graph.EdgeCount)
            throw new ArgumentOutOfRangeException(nameof(n), $"edge count {n} outside 0..{graph.EdgeCount}.");
        var edges = new bool[graph.DenseLength];
        var nodeIn = new bool[graph.NodeCount];
        var queue = new PriorityQueue<int, int>(Comparer<int>.Create((a, b) => Compare(circuit, ranking, a, b)));
        void AddNode(int node)
        {
            nodeIn[node] = true;
            foreach (var d in graph.InputsOf(node))
                for (int f = 0; f < graph.PrefixLength(d); f++) { int i = graph.EdgeIndex(f, d); queue.Enqueue(i, i); }
        }
        AddNode(graph.LogitsNode);
        for (int taken = 0; taken < n && queue.Count > 0; taken++)
        {
            int i = queue.Dequeue();
            edges[i] = true;
            int parent = graph.ForwardOf(i);
            if (!nodeIn[parent]) AddNode(parent);
        }
        return circuit.WithEdges(edges);
    }

    internal static float Key(float score, ScoreRanking ranking) => ranking == ScoreRanking.Absolute ? Math.Abs(score) : score;

    // Best first: higher key, then lower index.
    private static int Compare(Circuit c, ScoreRanking ranking, int a, int b)
    {
        int byKey = Key(c.ScoreArray[b], ranking).CompareTo(Key(c.ScoreArray[a], ranking));
        return byKey != 0 ? byKey : a.CompareTo(b);
    }
}
