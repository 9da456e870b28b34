namespace CircuitNotebooks.Circuits;

internal static class EdgeNameIndex
{
    /// <summary>Edge name → row-major index, for the real edges of a layout.</summary>
    public static Dictionary<string, int> Build(EdgeLayout layout)
    {
        var map = new Dictionary<string, int>(layout.EdgeCount);
        foreach (var i in layout.RealEdges())
            map[layout.EdgeName(layout.ForwardOf(i), layout.DestinationOf(i))] = i;
        return map;
    }
}
