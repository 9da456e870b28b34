namespace CircuitNotebooks.Circuits;

/// <summary>How q/k/v scores of one head combine into a head-level edge score.</summary>
public enum CollapseMode
{
    /// <summary>|s_q| + |s_k| + |s_v| (and |s| for MLP/logits edges): a magnitude, never cancels; the default.</summary>
    Absolute,
    /// <summary>s_q + s_k + s_v: keeps direction but opposite-signed inputs can cancel (the EAP-IG "sum" view).</summary>
    Signed,
}

/// <summary>Collapses a Qkv-granularity circuit to node→node edges (<c>a0.h1-&gt;a2.h3</c>).</summary>
public static class HeadLevelView
{
    /// <summary>An edge is in the head-level circuit iff any of its q/k/v edges is; nodes are unchanged.</summary>
    public static Circuit Collapse(Circuit circuit, CollapseMode mode = CollapseMode.Absolute)
    {
        if (circuit.Granularity == EdgeGranularity.Head) return circuit;
        var src = circuit.Graph;
        var dst = src.At(EdgeGranularity.Head);
        var scores = new float[dst.DenseLength];
        var edges = new bool[dst.DenseLength];
        for (int f = 0; f < src.ForwardCount; f++)
            for (int b = 0; b < src.BackwardCount; b++)
            {
                if (!src.IsRealEdge(f, b)) continue;
                int i = src.EdgeIndex(f, b), j = dst.EdgeIndex(f, src.BackwardNode(b));
                float s = circuit.ScoreArray[i];
                scores[j] += mode == CollapseMode.Absolute ? Math.Abs(s) : s;
                edges[j] |= circuit.EdgeArray[i];
            }
        return Circuit.Create(dst, scores, edges, circuit.CopyNodeMask(), circuit.Metadata);
    }
}
