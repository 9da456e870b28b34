namespace CircuitNotebooks.Circuits.Attribution;

/// <summary>
/// Edge attribution result over <see cref="Graph"/> (q/k/v granularity): dense scores row-major
/// [ForwardCount, BackwardCount] (0 off the real edges), and optionally per-example scores
/// [examples, ForwardCount · BackwardCount]. Scores are the batch mean over examples of
/// Σ_pos (a_u(corrupt) − a_u(clean)) · ∂M/∂input_v, i.e. the predicted change in the mean metric when the edge is
/// switched from clean to corrupted (negative = the edge supports a high metric). <see cref="ToCircuit"/> makes the
/// circuit every selection, pruning and evaluation step takes.
/// </summary>
public sealed partial record EdgeScores(CircuitGraph Graph, float[] Scores, int Examples, float[]? PerExample = null)
{
    public float this[int forward, int backward] => Scores[Graph.EdgeIndex(forward, backward)];

    /// <summary>The scores as a circuit with no edge selected yet (select with <see cref="CircuitSelection"/>).</summary>
    public Circuit ToCircuit(CircuitMetadata? metadata = null) => Circuit.FromScores(Graph, Scores, metadata);

    /// <summary>Flat indices of the <paramref name="n"/> real edges with the largest |score| (ties: lower index first).</summary>
    public int[] TopEdges(int n) =>
        Graph.RealEdges().OrderByDescending(i => Math.Abs(Scores[i])).ThenBy(i => i).Take(n).ToArray();
}
