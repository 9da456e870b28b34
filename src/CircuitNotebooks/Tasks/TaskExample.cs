namespace CircuitNotebooks.Tasks;

/// <summary>
/// One clean/corrupted prompt pair. <see cref="Label"/> is the answer to the clean prompt (for a model it must be a
/// single token, see <see cref="TaskValidator"/>); <see cref="CorruptedLabel"/> is the answer to the corrupted prompt
/// where that is well defined (null e.g. for a corrupted sequence that is no longer a sequence).
/// </summary>
/// <remarks>Equality is structural, metadata included, so determinism and round-trip checks can compare lists.</remarks>
public sealed record TaskExample
{
    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>();

    public TaskExample(string clean, string corrupted, string label, string? corruptedLabel = null,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        Clean = clean ?? throw new ArgumentNullException(nameof(clean));
        Corrupted = corrupted ?? throw new ArgumentNullException(nameof(corrupted));
        Label = label ?? throw new ArgumentNullException(nameof(label));
        CorruptedLabel = corruptedLabel;
        // Copy so later mutation of the caller's dictionary cannot change a generated dataset.
        Metadata = metadata is null || metadata.Count == 0
            ? NoMetadata
            : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
    }

    public string Clean { get; init; }
    public string Corrupted { get; init; }
    public string Label { get; init; }
    public string? CorruptedLabel { get; init; }
    public IReadOnlyDictionary<string, string> Metadata { get; init; }

    public bool Equals(TaskExample? other)
    {
        if (other is null) return false;
        if (ReferenceEquals(this, other)) return true;
        if (Clean != other.Clean || Corrupted != other.Corrupted || Label != other.Label
            || CorruptedLabel != other.CorruptedLabel || Metadata.Count != other.Metadata.Count)
            return false;
        foreach (var (k, v) in Metadata)
            if (!other.Metadata.TryGetValue(k, out var ov) || ov != v) return false;
        return true;
    }

    public override int GetHashCode()
    {
        var h = HashCode.Combine(Clean, Corrupted, Label, CorruptedLabel, Metadata.Count);
        // Order-independent over metadata entries, matching Equals.
        foreach (var (k, v) in Metadata) h ^= HashCode.Combine(k, v);
        return h;
    }

    public override string ToString() =>
        $"TaskExample {{ Clean = \"{Clean}\", Corrupted = \"{Corrupted}\", Label = \"{Label}\", CorruptedLabel = " +
        (CorruptedLabel is null ? "null" : $"\"{CorruptedLabel}\"") + " }";
}
