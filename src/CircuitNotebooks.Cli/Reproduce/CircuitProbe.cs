using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Models;
using CircuitNotebooks.Tasks;

namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>
/// Circuit discovery (<see cref="CircuitDiscovery"/>) on one fixed batch of examples, for every model state a run
/// probes (base, checkpoints). Metric: KL to the clean run of the model being probed, at the answer position (the
/// paper's, and the default), or logit difference label − corrupted label.
/// </summary>
public sealed class CircuitProbe : IDisposable
{
    private readonly AttributionBatch _batch;
    private readonly TaskMetric _metric;
    private readonly DiscoveryOptions _options;

    public CircuitProbe(HookedTransformer model, IReadOnlyList<TaskExample> examples, string task, DiscoveryOptions options,
        TaskMetric metric = TaskMetric.Kl)
    {
        if (examples.Count == 0) throw new ArgumentException($"task {task}: no examples to discover a circuit on.");
        if (metric is not (TaskMetric.Kl or TaskMetric.LogitDiff))
            throw new ArgumentException($"metric {metric}: circuits are found with KL or logit difference.", nameof(metric));
        _metric = metric;
        _batch = TaskBatches.ForAttribution(model, examples, _metric);
        _options = options with { Task = task, Metric = metric };
    }

    public string MetricName => _metric == TaskMetric.LogitDiff ? "logit_diff" : "kl";
    public int Examples => _batch.Rows;

    /// <summary>The attribution batch for <paramref name="model"/> in its current state (KL needs its own clean run).</summary>
    public AttributionBatch BatchFor(HookedTransformer model) => _metric == TaskMetric.LogitDiff
        ? _batch
        : AttributionBatch.WithKlMetric(model, _batch.Clean, _batch.Corrupted, _batch.AttentionMask);

    public DiscoveryResult Discover(HookedTransformer model, string label, IProgress<int>? progress = null, CancellationToken ct = default) =>
        CircuitDiscovery.Discover(model, BatchFor(model), _options with { Label = label, Progress = progress, Cancellation = ct });

    /// <summary>Normalised faithfulness of <paramref name="circuit"/> on this batch (1 = clean behaviour, 0 = corrupted).</summary>
    public double Faithfulness(HookedTransformer model, Circuit circuit)
    {
        using var eval = new FaithfulnessEvaluator(model, BatchFor(model));
        return eval.Evaluate(circuit).Normalized;
    }

    /// <summary>Faithfulness of the top-n edges of each circuit's scores for every budget n (one batched evaluation).</summary>
    public double[][] Curves(HookedTransformer model, IReadOnlyList<Circuit> circuits, IReadOnlyList<int> budgets)
    {
        using var eval = new FaithfulnessEvaluator(model, BatchFor(model));
        var results = eval.Evaluate(circuits.SelectMany(c => budgets.Select(n => CircuitSelection.TopN(c, n))).ToList());
        return circuits.Select((_, i) => results.Skip(i * budgets.Count).Take(budgets.Count).Select(r => r.Normalized).ToArray()).ToArray();
    }

    public void Dispose()
    {
        _batch.Clean.Dispose();
        _batch.Corrupted.Dispose();
        _batch.AttentionMask?.Dispose();
    }
}
