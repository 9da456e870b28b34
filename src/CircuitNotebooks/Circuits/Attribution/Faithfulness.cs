using CircuitNotebooks.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Circuits.Attribution;

/// <summary>
/// Metric values of one circuit evaluation. <see cref="Normalized"/> = (m(C) − m(corrupt)) / (m(clean) − m(corrupt)):
/// 1 = the circuit alone recovers the clean behaviour, 0 = no better than the corrupted run.
/// <see cref="RelativeToFull"/> = 1 − |m(full) − m(C)| / |m(full)| is the "KL form" of Wang et al. 2025 for a metric that
/// measures divergence from a target (e.g. <see cref="Patching.Metric.CrossEntropy"/> = KL to the one-hot label), with the
/// full, unpatched model as m(full) = m(clean); it is NaN when m(clean) = 0 (e.g. KL-to-clean, use Normalized there:
/// it becomes 1 − KL_circ / KL_corrupt).
/// </summary>
public sealed partial record FaithfulnessResult(double Clean, double Corrupted, double Circuit, int EdgeCount)
{
    public double Normalized => (Circuit - Corrupted) / (Clean - Corrupted);
    public double RelativeToFull => Clean == 0 ? double.NaN : 1 - Math.Abs(Clean - Circuit) / Math.Abs(Clean);
}

/// <summary>
/// Evaluates circuits on one batch with ONE patched forward each: every destination reads its circuit-edge sources from
/// the current run and its other sources from the corrupted run (input_v = input_v(current) − Σ_{u∉C} (a_u(current) −
/// a_u(corrupt))), which is exact edge patching of the complement. The corrupted sources and the clean and corrupted
/// metrics are computed once, at construction. Several circuits (a budget curve) share a forward by repeating the batch.
/// </summary>
public sealed class FaithfulnessEvaluator : IDisposable
{
    private readonly HookedTransformer _model;
    private readonly AttributionBatch _batch;
    private readonly Tensor _corrupt;
    private readonly Tensor[] _corruptResiduals;
    private Tensor? _workspace;
    private readonly bool[] _real;

    public FaithfulnessEvaluator(HookedTransformer model, AttributionBatch batch)
    {
        EdgeForward.Validate(model, batch);
        _model = model;
        _batch = batch;
        Graph = CircuitGraph.FromConfig(model.Config);
        _real = Graph.RealEdgeMask();
        using var scope = NewDisposeScope();
        var (corruptLogits, corrupt, residuals) = PlainEdgeRun.CaptureSources(model, Graph, batch.Corrupted, batch.AttentionMask, batch.Metric, withResiduals: true);
        _corrupt = PlainEdgeRun.NodeMajor(corrupt).DetachFromDisposeScope();
        _corruptResiduals = residuals!.Select(r => r.DetachFromDisposeScope()).ToArray();
        using var _ = no_grad();
        CorruptedMetric = batch.Metric.EvaluateAtAnswer(corruptLogits);
        CleanMetric = batch.Metric.Evaluate(model.Forward(batch.Clean, batch.AttentionMask));
    }

    /// <summary>The model's graph at q/k/v granularity: the circuits evaluated must be over it.</summary>
    public CircuitGraph Graph { get; }
    public double CleanMetric { get; }
    public double CorruptedMetric { get; }
    /// <summary>Most circuits evaluated in one forward (memory: copies × batch × pos × n_fwd × d_model floats).</summary>
    public int CopiesPerForward { get; init; } = 4;

    public FaithfulnessResult Evaluate(Circuit circuit) => Evaluate([circuit])[0];

    /// <summary>Each circuit evaluated, <see cref="CopiesPerForward"/> of them per forward.</summary>
    public FaithfulnessResult[] Evaluate(IReadOnlyList<Circuit> circuits, IProgress<int>? progress = null, CancellationToken ct = default)
    {
        var patches = circuits.Select((c, k) =>
        {
            Check(c, k);
            var p = new bool[_real.Length];
            for (int i = 0; i < p.Length; i++) p[i] = _real[i] && !c.EdgeArray[i];
            return p;
        }).ToList();
        var values = PatchedMetrics(patches, progress, ct);
        return circuits.Select((c, i) => new FaithfulnessResult(CleanMetric, CorruptedMetric, values[i], c.EdgeCountInCircuit)).ToArray();
    }

    /// <summary>Faithfulness of the top-n edges of <paramref name="scored"/> by |score| for each budget n, in one call.</summary>
    public FaithfulnessResult[] Curve(Circuit scored, IReadOnlyList<int> budgets, IProgress<int>? progress = null, CancellationToken ct = default) =>
        Evaluate(budgets.Select(n => CircuitSelection.TopN(scored, n)).ToList(), progress, ct);

    /// <summary>Metric with the edges marked in each mask taken from the corrupted run (all others from the current run).</summary>
    internal double[] PatchedMetrics(IReadOnlyList<bool[]> patchMasks, IProgress<int>? progress = null, CancellationToken ct = default)
    {
        int F = Graph.ForwardCount, B = Graph.BackwardCount, G = Math.Max(1, CopiesPerForward);
        var results = new double[patchMasks.Count];
        for (int start = 0; start < patchMasks.Count; start += G)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var chunk = patchMasks.Skip(start).Take(G).ToList();
            var flat = new float[chunk.Count * F * B];
            for (int c = 0; c < chunk.Count; c++)
            for (int i = 0; i < F * B; i++)
                if (chunk[c][i]) flat[c * F * B + i] = 1f;
            var patch = tensor(flat, [chunk.Count, F, B]);
            var answers = EdgeForward.PatchedLogits(_model, Graph, _batch.Clean, _batch.AttentionMask, _corrupt, _corruptResiduals, patch,
                Workspace(chunk.Count), answersOf: _batch.Metric); // [copies·b, V]
            var per = answers.reshape(chunk.Count, _batch.Rows, -1);
            for (int c = 0; c < chunk.Count; c++) results[start + c] = _batch.Metric.EvaluateAtAnswer(per[c]);
            progress?.Report(start + chunk.Count);
        }
        return results;
    }

    /// <summary>The difference buffer of the patched forwards, kept across evaluations (grown when more copies are needed).</summary>
    private Tensor Workspace(int copies)
    {
        if (_workspace is null || _workspace.shape[0] < copies)
        {
            _workspace?.Dispose();
            _workspace = empty([copies, Graph.ForwardCount, _corrupt.shape[1]], dtype: _corrupt.dtype, device: _corrupt.device)
                .DetachFromDisposeScope();
        }
        return _workspace;
    }

    private void Check(Circuit circuit, int index)
    {
        if (!circuit.Graph.SameAs(Graph))
            throw new ArgumentException(
                $"circuit #{index} ('{circuit.Metadata.Label ?? circuit.Metadata.Task ?? "unnamed"}') is over graph {circuit.Graph.ShapeKey} " +
                $"({circuit.Granularity}); this model's is {Graph.ShapeKey} (Qkv). Faithfulness patches q/k/v inputs, so head-level circuits cannot be evaluated.",
                "circuits");
    }

    internal void CheckMask(bool[] mask)
    {
        if (mask.Length != Graph.DenseLength)
            throw new ArgumentException(
                $"Edge mask has {mask.Length} entries, expected n_fwd × n_bwd = {Graph.ForwardCount} × {Graph.BackwardCount} = {Graph.DenseLength}.");
    }

    public void Dispose()
    {
        _corrupt.Dispose();
        _workspace?.Dispose();
        foreach (var r in _corruptResiduals) r.Dispose();
    }
}

/// <summary>Exact edge patching: the slow reference (one patched evaluation per edge, several edges per forward).</summary>
public static class ExactEdgePatching
{
    /// <summary>
    /// For every real edge (or the given flat edge indices), m(edge from corrupted run) − m(clean): the quantity EAP
    /// approximates to first order. Edges not evaluated score 0.
    /// </summary>
    public static EdgeScores Compute(HookedTransformer model, AttributionBatch batch, IReadOnlyList<int>? edges = null,
        int copiesPerForward = 8, IProgress<int>? progress = null, CancellationToken ct = default)
    {
        using var eval = new FaithfulnessEvaluator(model, batch) { CopiesPerForward = copiesPerForward };
        var real = eval.Graph.RealEdgeMask();
        var list = edges ?? Enumerable.Range(0, real.Length).Where(i => real[i]).ToList();
        var masks = list.Select(e =>
        {
            if (e < 0 || e >= real.Length || !real[e]) throw new ArgumentException($"Edge {e} is not a real edge of this model.", nameof(edges));
            var m = new bool[real.Length];
            m[e] = true;
            return m;
        }).ToList();
        var values = eval.PatchedMetrics(masks, progress, ct);
        var scores = new float[real.Length];
        for (int i = 0; i < list.Count; i++) scores[list[i]] = (float)(values[i] - eval.CleanMetric);
        return new EdgeScores(eval.Graph, scores, batch.Rows);
    }

    /// <summary>m(every edge in <paramref name="patchEdges"/> from the corrupted run), everything else current.</summary>
    public static double PatchEdges(HookedTransformer model, AttributionBatch batch, bool[] patchEdges)
    {
        using var eval = new FaithfulnessEvaluator(model, batch);
        eval.CheckMask(patchEdges);
        return eval.PatchedMetrics([patchEdges])[0];
    }
}
