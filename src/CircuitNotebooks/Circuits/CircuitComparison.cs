namespace CircuitNotebooks.Circuits;

/// <summary>Set comparison of circuits over the same graph and granularity.</summary>
public static class CircuitComparison
{
    public static CircuitDiff Compare(Circuit from, Circuit to, int fromIndex = 0, int toIndex = 1)
    {
        RequireSameGraph(from, to, $"circuits #{fromIndex} and #{toIndex}");
        var graph = from.Graph;

        var addedNodes = new List<string>(); var removedNodes = new List<string>();
        var nodeChanged = new bool[graph.NodeCount];
        var perLayer = new int[graph.NLayers + 1, 4];
        int nodeUnion = 0, nodeInter = 0;
        for (int n = 0; n < graph.NodeCount; n++)
        {
            bool a = from.NodeArray[n], b = to.NodeArray[n];
            if (a || b) nodeUnion++;
            if (a && b) nodeInter++;
            if (a == b) continue;
            nodeChanged[n] = true;
            (b ? addedNodes : removedNodes).Add(graph.NodeNames[n]);
            perLayer[graph.LayerOf(n), b ? 0 : 1]++;
        }

        var addedEdges = new List<string>(); var removedEdges = new List<string>();
        int edgeUnion = 0, edgeInter = 0, touching = 0;
        double sumMin = 0, sumMax = 0;
        for (int i = 0; i < graph.DenseLength; i++)
        {
            bool a = from.EdgeArray[i], b = to.EdgeArray[i];
            if (!a && !b) continue;
            edgeUnion++;
            double wa = a ? Math.Abs(from.ScoreArray[i]) : 0, wb = b ? Math.Abs(to.ScoreArray[i]) : 0;
            sumMin += Math.Min(wa, wb); sumMax += Math.Max(wa, wb);
            if (a && b) { edgeInter++; continue; }
            int f = graph.ForwardOf(i), d = graph.BackwardOf(i);
            (b ? addedEdges : removedEdges).Add(graph.EdgeName(f, d));
            perLayer[graph.LayerOf(f), b ? 2 : 3]++;
            if (nodeChanged[f] || nodeChanged[graph.BackwardNode(d)]) touching++;
        }

        var layers = Enumerable.Range(0, graph.NLayers + 1)
            .Select(l => new LayerChangeCounts(l, perLayer[l, 0], perLayer[l, 1], perLayer[l, 2], perLayer[l, 3])).ToArray();
        return new CircuitDiff(fromIndex, toIndex, LabelOf(from, fromIndex), LabelOf(to, toIndex),
            from.NodeCountInCircuit, to.NodeCountInCircuit, from.EdgeCountInCircuit, to.EdgeCountInCircuit,
            Ratio(nodeInter, nodeUnion), Ratio(edgeInter, edgeUnion), sumMax == 0 ? 1 : sumMin / sumMax,
            addedNodes, removedNodes, addedEdges, removedEdges, touching, layers);
    }

    /// <summary>Circuit i vs circuit 0 (i ≥ 1) and circuit i vs circuit i−1.</summary>
    public static CircuitSeriesComparison CompareSeries(IReadOnlyList<Circuit> circuits)
    {
        if (circuits.Count < 2) throw new ArgumentException($"need at least 2 circuits to compare, got {circuits.Count}.", nameof(circuits));
        var vsBase = new List<CircuitDiff>(); var vsPrev = new List<CircuitDiff>();
        for (int i = 1; i < circuits.Count; i++)
        {
            vsBase.Add(Compare(circuits[0], circuits[i], 0, i));
            vsPrev.Add(Compare(circuits[i - 1], circuits[i], i - 1, i));
        }
        return new CircuitSeriesComparison(vsBase, vsPrev);
    }

    internal static void RequireSameGraph(Circuit a, Circuit b, string what)
    {
        if (!a.Graph.SameAs(b.Graph))
            throw new ArgumentException($"{what} differ in graph or granularity: {a.Graph.ShapeKey} {a.Granularity} vs " +
                $"{b.Graph.ShapeKey} {b.Granularity} (collapse with HeadLevelView.Collapse to compare Qkv with Head circuits).");
    }

    private static string LabelOf(Circuit c, int index) => c.Metadata.Label ?? $"#{index}";
    private static double Ratio(int inter, int union) => union == 0 ? 1 : (double)inter / union;
}
