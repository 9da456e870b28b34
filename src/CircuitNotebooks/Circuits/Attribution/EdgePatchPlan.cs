namespace CircuitNotebooks.Circuits.Attribution;

/// <summary>
/// What an edge-patched forward must do at each destination group (a layer's q, k and v inputs; an MLP input; the
/// logits input), decided from the patch weights alone, before the forward. A destination's input is its residual,
/// and the residual is the sum of the upstream sources (plus biases equal in every run), so with buf_u = a_u(corrupt)
/// − a_u(current) the patched input is either current input + Σ_u w_uv buf_u ("add" form) or corrupt residual −
/// Σ_u (1 − w_uv) buf_u ("from corrupt" form). Each group takes the form that reads fewer sources: a small patch set
/// (exact edge patching) reads few in the first, a small circuit (faithfulness: every other edge patched) in the second.
/// </summary>
internal sealed class EdgePatchPlan
{
    /// <param name="Rows">Source rows the correction reads (a subset of the group's upstream prefix).</param>
    /// <param name="WeightedColumns">Destinations (offsets within the group, ascending) into which any of those rows
    /// carries weight; the others need no correction.</param>
    /// <param name="Residual">Which of <see cref="PlainEdgeRun.CaptureSources"/>' residuals the group reads.</param>
    internal sealed record Group(int J0, int Width, int Residual, int Prefix, bool FromCorrupt, long[] Rows, int[] WeightedColumns)
    {
        /// <summary>Index of the first weighted column at or after <paramref name="offset"/>, and how many lie in the range.</summary>
        public (int First, int Count) ColumnsIn(int offset, int width)
        {
            int first = WeightedColumns.Count(j => j < offset);
            return (first, WeightedColumns.Count(j => j >= offset && j < offset + width));
        }
    }

    private readonly Dictionary<int, Group> _groups = new();

    /// <param name="patched">|w| summed over copies, [n_fwd · n_bwd] row-major.</param>
    /// <param name="kept">|1 − w| summed over copies, same layout.</param>
    public EdgePatchPlan(CircuitGraph g, float[] patched, float[] kept)
    {
        SourceNeeded = new bool[g.ForwardCount];
        for (int l = 0; l < g.NLayers; l++)
        {
            Add(g, g.HeadInputIndex(l, 0, QkvInput.Q), 3 * g.NHeads, 2 * l, patched, kept);
            Add(g, g.MlpInputIndex(l), 1, 2 * l + 1, patched, kept);
        }
        Add(g, g.LogitsInput, 1, 2 * g.NLayers, patched, kept);
    }

    /// <summary>Sources some correction reads: only these need their corrupt − current difference.</summary>
    public bool[] SourceNeeded { get; }

    /// <summary>The plan for the group starting at backward index <paramref name="j0"/>; null = keep the current input.</summary>
    public Group? For(int j0) => _groups.GetValueOrDefault(j0);

    private void Add(CircuitGraph g, int j0, int width, int residual, float[] patched, float[] kept)
    {
        int prefix = g.PrefixLength(j0), B = g.BackwardCount;
        bool Touches(float[] weights, int u) => Enumerable.Range(j0, width).Any(j => weights[u * B + j] != 0);
        var patchedRows = Enumerable.Range(0, prefix).Where(u => Touches(patched, u)).ToArray();
        if (patchedRows.Length == 0) return; // nothing patched here: the current input stands
        var keptRows = Enumerable.Range(0, prefix).Where(u => Touches(kept, u)).ToArray();
        bool fromCorrupt = keptRows.Length < patchedRows.Length;
        var (rows, weights) = fromCorrupt ? (keptRows, kept) : (patchedRows, patched);
        var weighted = Enumerable.Range(0, width).Where(c => rows.Any(u => weights[u * B + j0 + c] != 0)).ToArray();
        foreach (var u in rows) SourceNeeded[u] = true;
        _groups[j0] = new Group(j0, width, residual, prefix, fromCorrupt, rows.Select(u => (long)u).ToArray(), weighted);
    }
}
