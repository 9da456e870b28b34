using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Models;
using CircuitNotebooks.Tasks;

namespace CircuitNotebooks.Circuits;

/// <summary>What <see cref="CircuitDiscovery.Discover(HookedTransformer, string, DiscoveryOptions?)"/> does.</summary>
public sealed record DiscoveryOptions
{
    public AttributionMethod Method { get; init; } = AttributionMethod.EapIgInputs;
    /// <summary>Interpolation steps m (paper: 5); ignored by <see cref="AttributionMethod.Eap"/>.</summary>
    public int Steps { get; init; } = 5;
    /// <summary>Edge budget as a fraction of the real edges (paper: 5 %); <see cref="EdgeCount"/> wins when set.</summary>
    public double EdgeFraction { get; init; } = CircuitSelection.DefaultFraction;
    /// <summary>Edge budget as a count (clamped to 1 .. real edges).</summary>
    public int? EdgeCount { get; init; }
    /// <summary>Remove nodes without a path from input to logits after selecting the top edges.</summary>
    public bool Prune { get; init; } = true;
    /// <summary>Measure normalised faithfulness of the circuit on the same batch (one patched forward).</summary>
    public bool Faithfulness { get; init; } = true;
    /// <summary>
    /// Metric when discovering from examples or a task: null = logit difference when every example has a corrupted
    /// label, else KL to the clean run (the EAP-IG paper's metric).
    /// </summary>
    public TaskMetric? Metric { get; init; }
    /// <summary>Examples drawn when discovering from a task name.</summary>
    public int Examples { get; init; } = 32;
    public int Seed { get; init; } = DatasetSplit.PaperSeed;
    /// <summary>Label (e.g. a checkpoint name) stored in the circuit's metadata.</summary>
    public string? Label { get; init; }
    /// <summary>Task name stored in the circuit's metadata (set by the task-name overload).</summary>
    public string? Task { get; init; }
    /// <summary>Most tokens one scoring pass runs (bounds peak memory; same scores), see <see cref="AttributionOptions.MaxTokensPerPass"/>.</summary>
    public int? MaxTokensPerPass { get; init; }
    /// <summary>Reports attribution progress (examples done).</summary>
    public IProgress<int>? Progress { get; init; }
    public CancellationToken Cancellation { get; init; }

    /// <summary>The edge count this budget selects from <paramref name="realEdges"/> edges.</summary>
    public int EdgesFor(int realEdges) =>
        Math.Clamp(EdgeCount ?? CircuitSelection.EdgesForFraction(realEdges, EdgeFraction), 1, realEdges);

    internal string MethodName => Method switch
    {
        AttributionMethod.Eap => "EAP",
        AttributionMethod.EapIgInputs => $"EAP-IG-inputs(m={Steps})",
        AttributionMethod.EapIgActivations => $"EAP-IG-activations(m={Steps})",
        AttributionMethod.EapIgActivationsPerGroup => $"EAP-IG-activations-per-group(m={Steps})",
        _ => Method.ToString(),
    };
}

/// <summary>A discovered circuit (selected, pruned), the scores it came from, and its faithfulness when measured.</summary>
public sealed record DiscoveryResult(Circuit Circuit, EdgeScores Scores, FaithfulnessResult? Faithfulness);

/// <summary>
/// Circuit discovery in one call, as in Wang et al. 2025 with the EAP-IG library's steps: edge scores → the top edges
/// by |score| → pruned to input–logits paths → faithfulness on the same batch.
/// <code>
/// using var model = HookedTransformer.FromPretrained("data/models/tiny-neox");
/// var found = CircuitDiscovery.Discover(model, "addsub");
/// </code>
/// </summary>
public static class CircuitDiscovery
{
    /// <summary>On <see cref="DiscoveryOptions.Examples"/> examples of a task from <see cref="TaskCatalog"/>.</summary>
    public static DiscoveryResult Discover(HookedTransformer model, string task, DiscoveryOptions? options = null)
    {
        options ??= new DiscoveryOptions();
        return Discover(model, TaskCatalog.Examples(model, task, options.Examples, options.Seed), options with { Task = options.Task ?? task }, 0);
    }

    /// <summary>On these examples (one right-padded batch; each clean/corrupted pair must have equal token counts).</summary>
    public static DiscoveryResult Discover(HookedTransformer model, IReadOnlyList<TaskExample> examples, DiscoveryOptions? options = null) =>
        Discover(model, examples, options ?? new DiscoveryOptions(), 0);

    /// <summary>On a prepared batch (its metric is what the scores and faithfulness measure).</summary>
    public static DiscoveryResult Discover(HookedTransformer model, AttributionBatch batch, DiscoveryOptions? options = null) =>
        Discover(model, [batch], options ?? new DiscoveryOptions(), 0);

    /// <summary>Scores averaged over several mini-batches; faithfulness is measured on the first.</summary>
    public static DiscoveryResult Discover(HookedTransformer model, IReadOnlyList<AttributionBatch> batches, DiscoveryOptions? options = null) =>
        Discover(model, batches, options ?? new DiscoveryOptions(), 0);

    /// <summary>The metric a task batch uses by default: logit difference when every example has a corrupted label, else KL.</summary>
    public static TaskMetric DefaultMetric(IReadOnlyList<TaskExample> examples) =>
        examples.All(e => e.CorruptedLabel is not null) ? TaskMetric.LogitDiff : TaskMetric.Kl;

    // The int parameter only separates these cores from the public overloads.
    private static DiscoveryResult Discover(HookedTransformer model, IReadOnlyList<TaskExample> examples, DiscoveryOptions options, int _)
    {
        var batch = TaskBatches.ForAttribution(model, examples, options.Metric ?? DefaultMetric(examples));
        try { return Discover(model, [batch], options, 0); }
        finally
        {
            batch.Clean.Dispose();
            batch.Corrupted.Dispose();
            batch.AttentionMask?.Dispose();
        }
    }

    private static DiscoveryResult Discover(HookedTransformer model, IReadOnlyList<AttributionBatch> batches, DiscoveryOptions options, int _)
    {
        if (batches.Count == 0) throw new ArgumentException("No batches to discover a circuit on.", nameof(batches));
        var scores = EdgeAttribution.Compute(model, batches, new AttributionOptions
        {
            Method = options.Method, Steps = options.Steps, Progress = options.Progress, Cancellation = options.Cancellation,
            MaxTokensPerPass = options.MaxTokensPerPass,
        });
        var all = scores.ToCircuit(new CircuitMetadata
        {
            Task = options.Task, Method = options.MethodName, Metric = batches[0].Metric.Name, ModelFingerprint = model.Config.Fingerprint,
            Label = options.Label, IgSteps = options.Method == AttributionMethod.Eap ? null : options.Steps,
        });
        var circuit = CircuitSelection.TopN(all, options.EdgesFor(all.Graph.EdgeCount));
        if (options.Prune) circuit = CircuitPruning.Prune(circuit).Circuit;
        if (!options.Faithfulness) return new DiscoveryResult(circuit, scores, null);
        options.Cancellation.ThrowIfCancellationRequested();
        using var evaluator = new FaithfulnessEvaluator(model, batches[0]);
        var faithfulness = evaluator.Evaluate(circuit);
        return new DiscoveryResult(circuit.WithMetadata(circuit.Metadata with { Faithfulness = faithfulness.Normalized }), scores, faithfulness);
    }
}
