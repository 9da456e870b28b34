using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Cli.Options;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using CircuitNotebooks.Tasks;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>A discovered circuit, its raw scores and its faithfulness on the probe batch.</summary>
public sealed record Discovery(Circuit Circuit, EdgeScores Scores, double Faithfulness);

/// <summary>
/// EAP-IG circuit discovery on a fixed batch of examples. Metric: logit difference label − corrupted label when every
/// example has a corrupted label, otherwise KL to the clean run of the model being probed (the paper's metric).
/// </summary>
public sealed class CircuitProbe : IDisposable
{
    private readonly Tensor _clean, _corrupt, _mask;
    private readonly Metric? _logitDiff;
    private readonly string _task;
    private readonly EdgeBudget _edges;
    private readonly int _igSteps;

    public CircuitProbe(HookedTransformer model, IReadOnlyList<TaskExample> examples, string task, EdgeBudget edges, int igSteps)
    {
        if (examples.Count == 0) throw new ArgumentException($"task {task}: no examples to discover a circuit on.");
        _task = task; _edges = edges; _igSteps = igSteps;
        var clean = examples.Select(e => model.Encode(e.Clean)).ToList();
        var corrupt = examples.Select(e => model.Encode(e.Corrupted)).ToList();
        for (int i = 0; i < clean.Count; i++)
            if (clean[i].Length != corrupt[i].Length)
                throw new ArgumentException($"task {task}, example {i}: clean has {clean[i].Length} tokens, corrupted {corrupt[i].Length}; they must match.");
        using var cb = model.Pad(clean, PaddingSide.Right);
        using var kb = model.Pad(corrupt, PaddingSide.Right);
        _clean = cb.Tokens.clone().DetachFromDisposeScope();
        _corrupt = kb.Tokens.clone().DetachFromDisposeScope();
        _mask = cb.AttentionMask.clone().DetachFromDisposeScope();
        if (examples.All(e => e.CorruptedLabel is not null))
        {
            long[] Label(Func<TaskExample, string> f) => examples.Select(e => (long)TaskValidator.LabelTokenId(e.Clean, f(e), model.Tokenizer!)).ToArray();
            _logitDiff = Metric.LogitDiff(Label(e => e.Label), Label(e => e.CorruptedLabel!), _mask);
        }
    }

    public string MetricName => _logitDiff is null ? "kl" : "logit_diff";
    public int Examples => (int)_clean.shape[0];

    /// <summary>The attribution batch for <paramref name="model"/> in its current state (KL needs its own clean run).</summary>
    public AttributionBatch BatchFor(HookedTransformer model) => _logitDiff is not null
        ? new AttributionBatch(_clean, _corrupt, _mask, _logitDiff)
        : AttributionBatch.WithKlMetric(model, _clean, _corrupt, _mask);

    public Discovery Discover(HookedTransformer model, string label, IProgress<int>? progress = null, CancellationToken ct = default)
    {
        var scores = EdgeAttribution.Compute(model, BatchFor(model), new AttributionOptions
        {
            Method = AttributionMethod.EapIgInputs, Steps = _igSteps, Progress = progress, Cancellation = ct,
        });
        var graph = CircuitGraph.FromConfig(model.Config);
        var all = Circuit.FromScores(graph, scores.Scores, new CircuitMetadata
        {
            Task = _task, Method = $"EAP-IG-inputs(m={_igSteps})", Metric = MetricName, ModelFingerprint = model.Config.Fingerprint,
            Label = label, IgSteps = _igSteps,
        });
        var circuit = CircuitPruning.Prune(CircuitSelection.TopN(all, _edges.EdgesFor(all.Layout.EdgeCount))).Circuit;
        return new Discovery(circuit, scores, Faithfulness(model, circuit));
    }

    /// <summary>Normalised faithfulness of <paramref name="circuit"/> on this batch (1 = clean behaviour, 0 = corrupted).</summary>
    public double Faithfulness(HookedTransformer model, Circuit circuit)
    {
        using var eval = new FaithfulnessEvaluator(model, BatchFor(model));
        return eval.Evaluate(circuit.CopyEdgeMask()).Normalized;
    }

    /// <summary>Faithfulness of the top-n edges of each circuit's scores for every budget n (one batched evaluation).</summary>
    public double[][] Curves(HookedTransformer model, IReadOnlyList<Circuit> circuits, IReadOnlyList<int> budgets)
    {
        using var eval = new FaithfulnessEvaluator(model, BatchFor(model));
        var masks = circuits.SelectMany(c => budgets.Select(n => CircuitSelection.TopN(c, n).CopyEdgeMask())).ToList();
        var results = eval.Evaluate(masks);
        return circuits.Select((_, i) => results.Skip(i * budgets.Count).Take(budgets.Count).Select(r => r.Normalized).ToArray()).ToArray();
    }

    public void Dispose()
    {
        _clean.Dispose();
        _corrupt.Dispose();
        _mask.Dispose();
    }
}
