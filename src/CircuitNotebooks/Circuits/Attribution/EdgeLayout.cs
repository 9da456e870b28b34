using CircuitNotebooks.Models;

namespace CircuitNotebooks.Circuits.Attribution;

/// <summary>
/// The dense edge index shared with CircuitGraph (science.md §1). Forward (source) nodes: input = 0,
/// a{l}.h{h} = 1 + l(H+1) + h, m{l} = 1 + l(H+1) + H. Backward (destination) nodes: per layer the q inputs of all heads,
/// then k, then v (l(3H+1) + kind·H + h), then the MLP input (l(3H+1) + 3H); logits last (L(3H+1)).
/// Because every destination reads the sum of all earlier sources (pre-LN), its upstream set is a prefix of the
/// forward order; for parallel attention/MLP the MLP of layer l reads only up to layer l − 1, like the heads.
/// </summary>
public sealed class EdgeLayout
{
    public EdgeLayout(ModelConfig config)
    {
        NLayers = config.NLayers;
        NHeads = config.NHeads;
        ParallelAttnMlp = config.ParallelAttnMlp;
    }

    public int NLayers { get; }
    public int NHeads { get; }
    public bool ParallelAttnMlp { get; }
    public int NForward => 1 + NLayers * (NHeads + 1);
    public int NBackward => NLayers * (3 * NHeads + 1) + 1;

    public int HeadIndex(int layer, int head) => 1 + layer * (NHeads + 1) + head;
    public int MlpIndex(int layer) => 1 + layer * (NHeads + 1) + NHeads;
    /// <summary>kind 0 = q, 1 = k, 2 = v.</summary>
    public int QkvIndex(int layer, int kind, int head) => layer * (3 * NHeads + 1) + kind * NHeads + head;
    public int MlpInIndex(int layer) => layer * (3 * NHeads + 1) + 3 * NHeads;
    public int LogitsIndex => NLayers * (3 * NHeads + 1);

    /// <summary>Number of forward nodes (a prefix of the forward order) that feed destination <paramref name="bwd"/>.</summary>
    public int UpstreamPrefix(int bwd)
    {
        if (bwd == LogitsIndex) return NForward;
        int layer = bwd / (3 * NHeads + 1), within = bwd % (3 * NHeads + 1);
        if (within < 3 * NHeads || ParallelAttnMlp) return 1 + layer * (NHeads + 1);
        return 1 + layer * (NHeads + 1) + NHeads;
    }

    /// <summary>Row-major [fwd, bwd] flat index.</summary>
    public int EdgeIndex(int fwd, int bwd) => fwd * NBackward + bwd;

    /// <summary>True at the edges that exist (source upstream of destination), row-major [fwd, bwd].</summary>
    public bool[] RealEdges()
    {
        var mask = new bool[NForward * NBackward];
        for (int j = 0; j < NBackward; j++)
        {
            int prefix = UpstreamPrefix(j);
            for (int i = 0; i < prefix; i++) mask[i * NBackward + j] = true;
        }
        return mask;
    }

    public int EdgeCount => RealEdges().Count(x => x);

    public string ForwardName(int i)
    {
        if (i == 0) return "input";
        int l = (i - 1) / (NHeads + 1), h = (i - 1) % (NHeads + 1);
        return h == NHeads ? $"m{l}" : $"a{l}.h{h}";
    }

    public string BackwardName(int j)
    {
        if (j == LogitsIndex) return "logits";
        int l = j / (3 * NHeads + 1), w = j % (3 * NHeads + 1);
        if (w == 3 * NHeads) return $"m{l}";
        return $"a{l}.h{w % NHeads}<{"qkv"[w / NHeads]}>";
    }

    /// <summary>"src->dst" for a flat edge index.</summary>
    public string EdgeName(int flat) => $"{ForwardName(flat / NBackward)}->{BackwardName(flat % NBackward)}";

    /// <summary>Hook of the activation a forward node writes into the residual stream (slice by head for heads).</summary>
    internal string SourceHook(int fwd)
    {
        if (fwd == 0) return "blocks.0.hook_resid_pre";
        int l = (fwd - 1) / (NHeads + 1), h = (fwd - 1) % (NHeads + 1);
        return h == NHeads ? $"blocks.{l}.hook_mlp_out" : $"blocks.{l}.attn.hook_result";
    }
}
