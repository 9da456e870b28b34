namespace CircuitNotebooks.Circuits;

/// <summary>Sizes before and after pruning, as the paper reports them.</summary>
public sealed partial record PrunedCircuit(Circuit Circuit, int NodesBefore, int NodesAfter, int EdgesBefore, int EdgesAfter);

/// <summary>
/// Removes nodes without an in-circuit path from <c>input</c> or to <c>logits</c>, and edges touching them.
/// Iterating "drop nodes lacking an incoming or an outgoing edge" to a fixpoint gives the same set in a DAG: a
/// surviving node can follow surviving in-edges back to input and out-edges on to logits. Node ids are topologically
/// ordered (a source always precedes its destinations), so one pass each way computes both reachabilities.
/// </summary>
public static class CircuitPruning
{
    public static PrunedCircuit Prune(Circuit circuit)
    {
        var graph = circuit.Graph;
        var edges = circuit.EdgeArray;

        var fromInput = new bool[graph.NodeCount];
        fromInput[graph.InputNode] = true;
        for (int node = 1; node < graph.NodeCount; node++)
            fromInput[node] = graph.InputsOf(node).Any(d =>
                Enumerable.Range(0, graph.PrefixLength(d)).Any(f => fromInput[f] && edges[graph.EdgeIndex(f, d)]));

        var toLogits = new bool[graph.NodeCount];
        toLogits[graph.LogitsNode] = true;
        for (int node = graph.LogitsNode; node >= 1; node--)
        {
            if (!toLogits[node]) continue;
            foreach (var d in graph.InputsOf(node))
                for (int f = 0; f < graph.PrefixLength(d); f++)
                    if (edges[graph.EdgeIndex(f, d)]) toLogits[f] = true;
        }

        var keepNode = new bool[graph.NodeCount];
        for (int n = 0; n < keepNode.Length; n++) keepNode[n] = fromInput[n] && toLogits[n];
        var keepEdge = new bool[edges.Length];
        for (int i = 0; i < edges.Length; i++)
            keepEdge[i] = edges[i] && keepNode[graph.ForwardOf(i)] && keepNode[graph.BackwardNode(graph.BackwardOf(i))];

        var pruned = Circuit.Create(graph, circuit.ScoreArray, keepEdge, keepNode, circuit.Metadata);
        return new PrunedCircuit(pruned, circuit.NodeCountInCircuit, pruned.NodeCountInCircuit,
            circuit.EdgeCountInCircuit, pruned.EdgeCountInCircuit);
    }

    /// <summary>Drops nodes that touch no in-circuit edge (weaker than <see cref="Prune"/>; used by composition).</summary>
    public static Circuit DropIsolatedNodes(Circuit circuit) =>
        Circuit.Create(circuit.Graph, circuit.ScoreArray, circuit.EdgeArray, null, circuit.Metadata);
}
