using CircuitNotebooks.Models;

namespace CircuitNotebooks.Circuits;

/// <summary>Whether a graph's destinations are the separate q/k/v/MLP/logits inputs or whole nodes.</summary>
public enum EdgeGranularity
{
    /// <summary>Destinations are backward inputs (q, k, v per head; MLP; logits): what attribution scores and patching use.</summary>
    Qkv,
    /// <summary>Destinations are node ids (q/k/v of a head merged): the EAP-IG "head-level" view.</summary>
    Head,
}

/// <summary>
/// The EAP-IG computational graph of a pre-LN transformer, derived from shapes alone, and the one edge index of the kit
/// (attribution, edge patching, faithfulness, selection, comparison and the file formats all use it).
/// Forward (source) nodes in forward order: <c>input</c>, then per layer l the heads <c>a{l}.h{h}</c> and <c>m{l}</c>.
/// Backward (destination) inputs at <see cref="EdgeGranularity.Qkv"/>: per layer the q inputs of all heads, then all k,
/// then all v, then the MLP input; <c>logits</c> last. At <see cref="EdgeGranularity.Head"/> the destinations are the
/// node ids (the <c>input</c> column has no edges), so destination and node ids coincide.
/// Because every destination reads the residual stream (the sum of all earlier sources), its upstream set is a
/// prefix of forward order: edge arrays are dense row-major [ForwardCount, BackwardCount] and only the first
/// <see cref="PrefixLength"/> rows of each column are real edges.
/// With grouped-query attention there are still q, k and v inputs per *query* head, as in the EAP-IG library: each
/// query head's k/v input is patched as if it had its own copy of the shared kv head's input.
/// Node ids (for node sets) are forward indices plus <see cref="LogitsNode"/> = ForwardCount.
/// </summary>
public sealed partial class CircuitGraph
{
    private readonly string[] _forwardNames;
    private readonly string[] _backwardNames;
    private readonly string[] _nodeNames;
    private readonly int[] _prefix;
    private readonly int[][] _inputsOf;
    private readonly Dictionary<string, int> _forwardIndex;
    private readonly Dictionary<string, int> _backwardIndex;
    private CircuitGraph? _other;

    public int NLayers { get; }
    public int NHeads { get; }
    public bool ParallelAttnMlp { get; }
    public EdgeGranularity Granularity { get; }

    public int ForwardCount { get; }
    public int BackwardCount { get; }
    /// <summary>Entries of a dense edge array: ForwardCount × BackwardCount.</summary>
    public int DenseLength => ForwardCount * BackwardCount;
    /// <summary>Forward nodes plus <c>logits</c>.</summary>
    public int NodeCount => ForwardCount + 1;
    /// <summary>Number of real edges (sum of prefix lengths).</summary>
    public int EdgeCount { get; }
    public int InputNode => 0;
    public int LogitsNode => ForwardCount;
    /// <summary>Backward index of the logits input (the last column at either granularity).</summary>
    public int LogitsInput => BackwardCount - 1;

    /// <summary>Shape key used when no model fingerprint is known (e.g. circuits from the Python library).</summary>
    public string ShapeKey => $"L{NLayers}/H{NHeads}/P{(ParallelAttnMlp ? 1 : 0)}";

    public static CircuitGraph FromConfig(ModelConfig cfg) => new(cfg.NLayers, cfg.NHeads, cfg.ParallelAttnMlp);

    public CircuitGraph(int nLayers, int nHeads, bool parallelAttnMlp, EdgeGranularity granularity = EdgeGranularity.Qkv)
    {
        if (nLayers <= 0) throw new ArgumentOutOfRangeException(nameof(nLayers), $"n_layers must be positive (got {nLayers}).");
        if (nHeads <= 0) throw new ArgumentOutOfRangeException(nameof(nHeads), $"n_heads must be positive (got {nHeads}).");
        NLayers = nLayers; NHeads = nHeads; ParallelAttnMlp = parallelAttnMlp; Granularity = granularity;
        ForwardCount = 1 + nLayers * (nHeads + 1);
        BackwardCount = granularity == EdgeGranularity.Qkv ? nLayers * (3 * nHeads + 1) + 1 : NodeCount;

        _forwardNames = new string[ForwardCount];
        _forwardNames[0] = "input";
        for (int l = 0; l < nLayers; l++)
        {
            for (int h = 0; h < nHeads; h++) _forwardNames[HeadIndex(l, h)] = $"a{l}.h{h}";
            _forwardNames[MlpIndex(l)] = $"m{l}";
        }
        _nodeNames = [.. _forwardNames, "logits"];

        _backwardNames = new string[BackwardCount];
        _prefix = new int[BackwardCount];
        for (int l = 0; l < nLayers; l++)
        {
            for (int h = 0; h < nHeads; h++)
                foreach (var kind in new[] { QkvInput.Q, QkvInput.K, QkvInput.V })
                {
                    int b = HeadInputIndex(l, h, kind);
                    _backwardNames[b] = granularity == EdgeGranularity.Qkv ? $"a{l}.h{h}<{kind.ToString().ToLowerInvariant()}>" : $"a{l}.h{h}";
                    _prefix[b] = HeadIndex(l, 0); // everything before layer l
                }
            _backwardNames[MlpInputIndex(l)] = $"m{l}";
            // Parallel blocks: the MLP reads resid_pre, so not its own layer's heads.
            _prefix[MlpInputIndex(l)] = parallelAttnMlp ? HeadIndex(l, 0) : MlpIndex(l);
        }
        if (granularity == EdgeGranularity.Head) _backwardNames[InputNode] = "input"; // a column without edges
        _backwardNames[LogitsInput] = "logits";
        _prefix[LogitsInput] = ForwardCount;

        var owned = new List<int>[NodeCount];
        for (int n = 0; n < owned.Length; n++) owned[n] = [];
        for (int b = 0; b < BackwardCount; b++)
            if (_prefix[b] > 0) owned[BackwardNode(b)].Add(b);
        _inputsOf = owned.Select(x => x.ToArray()).ToArray();
        _forwardIndex = _forwardNames.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => t.i);
        _backwardIndex = _backwardNames.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => t.i);
        EdgeCount = _prefix.Sum();
    }

    /// <summary>The same graph at the other granularity when asked for it (q/k/v inputs merged per head, or split).</summary>
    public CircuitGraph At(EdgeGranularity granularity)
    {
        if (granularity == Granularity) return this;
        return _other ??= new CircuitGraph(NLayers, NHeads, ParallelAttnMlp, granularity) { _other = this };
    }

    public IReadOnlyList<string> ForwardNames => _forwardNames;
    public IReadOnlyList<string> BackwardNames => _backwardNames;
    public IReadOnlyList<string> NodeNames => _nodeNames;

    public int HeadIndex(int layer, int head) { CheckLayer(layer); CheckHead(head); return 1 + layer * (NHeads + 1) + head; }
    public int MlpIndex(int layer) { CheckLayer(layer); return 1 + layer * (NHeads + 1) + NHeads; }

    /// <summary>Backward index of head (layer, head)'s q/k/v input; at <see cref="EdgeGranularity.Head"/>, the head's node id.</summary>
    public int HeadInputIndex(int layer, int head, QkvInput kind)
    {
        CheckLayer(layer); CheckHead(head);
        return Granularity == EdgeGranularity.Qkv ? layer * (3 * NHeads + 1) + (int)kind * NHeads + head : HeadIndex(layer, head);
    }

    /// <summary>Backward index of MLP <paramref name="layer"/>'s input; at <see cref="EdgeGranularity.Head"/>, its node id.</summary>
    public int MlpInputIndex(int layer)
    {
        CheckLayer(layer);
        return Granularity == EdgeGranularity.Qkv ? layer * (3 * NHeads + 1) + 3 * NHeads : MlpIndex(layer);
    }

    /// <summary>Number of forward nodes (a prefix of forward order) that feed backward input <paramref name="backwardIndex"/>.</summary>
    public int PrefixLength(int backwardIndex)
    {
        if ((uint)backwardIndex >= (uint)BackwardCount)
            throw new ArgumentOutOfRangeException(nameof(backwardIndex), $"backward index {backwardIndex} outside 0..{BackwardCount - 1}.");
        return _prefix[backwardIndex];
    }

    /// <summary>Row-major position of edge (forward, backward) in a dense edge array.</summary>
    public int EdgeIndex(int forward, int backward) => forward * BackwardCount + backward;
    public int ForwardOf(int edgeIndex) => edgeIndex / BackwardCount;
    public int BackwardOf(int edgeIndex) => edgeIndex % BackwardCount;

    public bool IsRealEdge(int forward, int backward) =>
        (uint)forward < (uint)ForwardCount && forward < PrefixLength(backward);
    public bool IsRealEdge(int edgeIndex) =>
        (uint)edgeIndex < (uint)DenseLength && IsRealEdge(ForwardOf(edgeIndex), BackwardOf(edgeIndex));

    /// <summary>Row-major [ForwardCount · BackwardCount]: true where an entry is a real edge.</summary>
    public bool[] RealEdgeMask()
    {
        var mask = new bool[DenseLength];
        for (int b = 0; b < BackwardCount; b++)
            for (int f = 0; f < _prefix[b]; f++) mask[EdgeIndex(f, b)] = true;
        return mask;
    }

    /// <summary>All real edge indices in row-major order.</summary>
    public IEnumerable<int> RealEdges()
    {
        for (int f = 0; f < ForwardCount; f++)
            for (int b = 0; b < BackwardCount; b++)
                if (f < _prefix[b]) yield return EdgeIndex(f, b);
    }

    /// <summary>Node id that owns backward input <paramref name="backwardIndex"/> (a head, an MLP, or logits).</summary>
    public int BackwardNode(int backwardIndex)
    {
        PrefixLength(backwardIndex);
        if (Granularity == EdgeGranularity.Head) return backwardIndex;
        if (backwardIndex == LogitsInput) return LogitsNode;
        int layer = backwardIndex / (3 * NHeads + 1), within = backwardIndex % (3 * NHeads + 1);
        return within == 3 * NHeads ? MlpIndex(layer) : HeadIndex(layer, within % NHeads);
    }

    /// <summary>Backward inputs owned by a node: q/k/v of a head (or the head itself at head level), the MLP input, logits; none for <c>input</c>.</summary>
    public IReadOnlyList<int> InputsOf(int node) { CheckNode(node); return _inputsOf[node]; }

    public NodeKind KindOf(int node)
    {
        CheckNode(node);
        if (node == 0) return NodeKind.Input;
        if (node == LogitsNode) return NodeKind.Logits;
        return (node - 1) % (NHeads + 1) == NHeads ? NodeKind.Mlp : NodeKind.Head;
    }

    /// <summary>Layer of a node: <c>input</c> → 0 (the convention for per-layer sums), logits → NLayers.</summary>
    public int LayerOf(int node)
    {
        CheckNode(node);
        if (node == 0) return 0;
        if (node == LogitsNode) return NLayers;
        return (node - 1) / (NHeads + 1);
    }

    public int ForwardIndexOf(string name) => _forwardIndex.TryGetValue(name, out var i) ? i
        : throw new KeyNotFoundException($"'{name}' is not a forward node of graph {ShapeKey}.");
    public int BackwardIndexOf(string name) => _backwardIndex.TryGetValue(name, out var i) ? i
        : throw new KeyNotFoundException($"'{name}' is not a backward input of graph {ShapeKey} ({Granularity}).");
    public bool TryForwardIndex(string name, out int index) => _forwardIndex.TryGetValue(name, out index);
    public bool TryBackwardIndex(string name, out int index) => _backwardIndex.TryGetValue(name, out index);
    public bool TryNodeIndex(string name, out int node)
    {
        if (name == "logits") { node = LogitsNode; return true; }
        return _forwardIndex.TryGetValue(name, out node);
    }

    /// <summary>Edge name as in the EAP-IG library: <c>a0.h1-&gt;a2.h3&lt;q&gt;</c>, <c>input-&gt;m0</c>, <c>m3-&gt;logits</c>.</summary>
    public string EdgeName(int forward, int backward) => $"{_forwardNames[forward]}->{_backwardNames[backward]}";
    public string EdgeName(int edgeIndex) => EdgeName(ForwardOf(edgeIndex), BackwardOf(edgeIndex));

    public bool SameShape(CircuitGraph other) =>
        NLayers == other.NLayers && NHeads == other.NHeads && ParallelAttnMlp == other.ParallelAttnMlp;
    /// <summary>Same shape and granularity: edge arrays of the two graphs are interchangeable.</summary>
    public bool SameAs(CircuitGraph other) => SameShape(other) && Granularity == other.Granularity;

    private void CheckLayer(int layer)
    {
        if ((uint)layer >= (uint)NLayers) throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} outside 0..{NLayers - 1}.");
    }
    private void CheckHead(int head)
    {
        if ((uint)head >= (uint)NHeads) throw new ArgumentOutOfRangeException(nameof(head), $"head {head} outside 0..{NHeads - 1}.");
    }
    private void CheckNode(int node)
    {
        if ((uint)node >= (uint)NodeCount) throw new ArgumentOutOfRangeException(nameof(node), $"node {node} outside 0..{NodeCount - 1}.");
    }
}
