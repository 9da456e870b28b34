namespace CircuitNotebooks.Circuits.Attribution;

/// <summary>
/// Edge attribution result: dense scores row-major [n_fwd, n_bwd] (0 off the real edges), the real-edge mask in the
/// same layout, and optionally per-example scores [examples, n_fwd · n_bwd]. Scores are the batch mean over examples
/// of Σ_pos (a_u(corrupt) − a_u(clean)) · ∂M/∂input_v, i.e. the predicted change in the mean metric when the edge is
/// switched from clean to corrupted (negative = the edge supports a high metric).
/// </summary>
public sealed partial record EdgeScores(EdgeLayout Layout, float[] Scores, bool[] RealEdges, int Examples, float[]? PerExample = null)
{
    public int NForward => Layout.NForward;
    public int NBackward => Layout.NBackward;
    public float this[int fwd, int bwd] => Scores[fwd * Layout.NBackward + bwd];

    /// <summary>Flat indices of the <paramref name="n"/> real edges with the largest |score| (ties: lower index first).</summary>
    public int[] TopEdges(int n)
    {
        var idx = Enumerable.Range(0, Scores.Length).Where(i => RealEdges[i]).ToArray();
        return idx.OrderByDescending(i => Math.Abs(Scores[i])).ThenBy(i => i).Take(n).ToArray();
    }

    /// <summary>Membership mask [n_fwd · n_bwd] of the top-<paramref name="n"/> edges by |score|.</summary>
    public bool[] TopEdgeMask(int n)
    {
        var mask = new bool[Scores.Length];
        foreach (var i in TopEdges(n)) mask[i] = true;
        return mask;
    }
}
