namespace CircuitNotebooks.Circuits;

/// <summary>Provenance of a circuit. <see cref="ModelFingerprint"/> is null for circuits imported without a model.</summary>
public sealed record CircuitMetadata
{
    public string? Task { get; init; }
    /// <summary>e.g. "EAP", "EAP-IG-inputs", "EAP-IG-activations", "union".</summary>
    public string? Method { get; init; }
    /// <summary>e.g. "kl", "logit_diff", "prob_diff".</summary>
    public string? Metric { get; init; }
    public string? ModelFingerprint { get; init; }
    /// <summary>Free label, e.g. a checkpoint name; used as the circuit's name in comparisons.</summary>
    public string? Label { get; init; }
    public int? IgSteps { get; init; }
    /// <summary>Normalized faithfulness measured when the circuit was discovered (null when not measured).</summary>
    public double? Faithfulness { get; init; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
}
