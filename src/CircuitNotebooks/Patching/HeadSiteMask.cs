using static TorchSharp.torch;

namespace CircuitNotebooks.Patching;

/// <summary>Which (row, token, head) cells of one layer a set of <see cref="HeadSite"/>s covers in a batch.</summary>
internal static class HeadSiteMask
{
    /// <summary>bool [b, p, H]: true where a site of layer <paramref name="layer"/> covers (row, position, head).</summary>
    public static Tensor Covered(PromptBatch batch, IReadOnlyList<HeadSite> sites, int layer, int nHeads)
    {
        int b = batch.Rows, p = batch.Length;
        var data = new bool[b * p * nHeads];
        foreach (var s in sites.Where(s => s.Layer == layer))
        {
            if (s.Position is null)
            {
                for (int r = 0; r < b; r++)
                for (int t = 0; t < p; t++) data[(r * p + t) * nHeads + s.Head] = true;
                continue;
            }
            var pos = batch.PositionsOf(s.Position);
            for (int r = 0; r < b; r++) data[(r * p + pos[r]) * nHeads + s.Head] = true;
        }
        return tensor(data, [b, p, nHeads], dtype: ScalarType.Bool);
    }
}
