namespace CircuitNotebooks.Circuits;

/// <summary>
/// Combining circuits of sub-tasks (Wang et al. 2025, composite tasks). Scores of the result: for an edge in at least one
/// input circuit, the mean of its scores over the circuits that contain it ("average where shared"); for other
/// edges, the mean over all circuits (so later top-n selection still has a ranking).
/// </summary>
public static class CircuitComposition
{
    public static Circuit Union(IReadOnlyList<Circuit> circuits) => Combine(circuits, any: true, "union");

    public static Circuit Intersection(IReadOnlyList<Circuit> circuits) => Combine(circuits, any: false, "intersection");

    /// <summary>
    /// The paper's union circuit: node and edge union, then keep the <paramref name="keepEdges"/> union edges with the
    /// largest |score| (typically the composite task circuit's edge count), then drop nodes left without edges.
    /// </summary>
    public static Circuit Merge(IReadOnlyList<Circuit> circuits, int keepEdges)
    {
        if (keepEdges < 0) throw new ArgumentOutOfRangeException(nameof(keepEdges), $"keepEdges must be ≥ 0 (got {keepEdges}).");
        var union = Union(circuits);
        var candidates = Enumerable.Range(0, union.EdgeArray.Length).Where(i => union.EdgeArray[i])
            .OrderByDescending(i => Math.Abs(union.ScoreArray[i])).ThenBy(i => i).Take(keepEdges);
        var edges = new bool[union.EdgeArray.Length];
        foreach (var i in candidates) edges[i] = true;
        return union.WithEdges(edges, union.Metadata with { Method = "merge" });
    }

    private static Circuit Combine(IReadOnlyList<Circuit> circuits, bool any, string method)
    {
        if (circuits.Count == 0) throw new ArgumentException("no circuits to combine.", nameof(circuits));
        for (int c = 1; c < circuits.Count; c++)
            CircuitComparison.RequireSameGraph(circuits[0], circuits[c], $"circuits #0 and #{c}");
        var graph = circuits[0].Graph;
        var scores = new float[graph.DenseLength];
        var edges = new bool[graph.DenseLength];
        for (int i = 0; i < graph.DenseLength; i++)
        {
            int inCount = 0; double inSum = 0, allSum = 0;
            foreach (var c in circuits)
            {
                allSum += c.ScoreArray[i];
                if (c.EdgeArray[i]) { inCount++; inSum += c.ScoreArray[i]; }
            }
            edges[i] = any ? inCount > 0 : inCount == circuits.Count;
            scores[i] = (float)(inCount > 0 ? inSum / inCount : allSum / circuits.Count);
        }
        var nodes = new bool[graph.NodeCount];
        for (int n = 0; n < nodes.Length; n++)
            nodes[n] = any ? circuits.Any(c => c.NodeArray[n]) : circuits.All(c => c.NodeArray[n]);

        var fingerprints = circuits.Select(c => c.Metadata.ModelFingerprint).Distinct().ToArray();
        var metadata = new CircuitMetadata
        {
            Task = string.Join("+", circuits.Select(c => c.Metadata.Task ?? "?")),
            Method = method,
            Metric = circuits.Select(c => c.Metadata.Metric).Distinct().Count() == 1 ? circuits[0].Metadata.Metric : null,
            ModelFingerprint = fingerprints.Length == 1 ? fingerprints[0] : null,
            IgSteps = circuits[0].Metadata.IgSteps,
        };
        return Circuit.Create(graph, scores, edges, nodes, metadata);
    }
}
