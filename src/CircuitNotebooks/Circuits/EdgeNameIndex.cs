namespace CircuitNotebooks.Circuits;

internal static class EdgeNameIndex
{
    /// <summary>Edge name → row-major index, for the real edges of a graph.</summary>
    public static Dictionary<string, int> Build(CircuitGraph graph)
    {
        var map = new Dictionary<string, int>(graph.EdgeCount);
        foreach (var i in graph.RealEdges())
            map[graph.EdgeName(i)] = i;
        return map;
    }
}
