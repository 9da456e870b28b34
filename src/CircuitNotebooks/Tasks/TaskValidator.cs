using CircuitNotebooks.Models;

namespace CircuitNotebooks.Tasks;

public enum ValidationMode
{
    /// <summary>Drop failing examples and report counts per reason.</summary>
    Filter,
    /// <summary>Throw <see cref="TaskValidationException"/> if any example fails.</summary>
    Fail,
}

/// <summary>How the label's tokens are determined.</summary>
public enum LabelTokenization
{
    /// <summary>
    /// Tokens of Encode(LabelPrefix + label), on its own. This is the id a metric reads at the last prompt position
    /// (e.g. " 26" for "… =" followed by " 26"), and does not depend on the prompt. Default.
    /// </summary>
    Standalone,
    /// <summary>
    /// Encode(clean + LabelPrefix + label) minus the leading Encode(clean) tokens; if the prompt's tokens are not a
    /// prefix of the joint encoding (the label merges with the prompt's end) the example fails with
    /// <see cref="ValidationReason.LabelMergesWithPrompt"/>.
    /// </summary>
    InContext,
}

public enum ValidationReason
{
    LabelNotSingleToken,
    CorruptedLabelNotSingleToken,
    TokenCountMismatch,
    LabelMergesWithPrompt,
}

/// <summary>Options of <see cref="TaskValidator"/>.</summary>
/// <param name="LabelPrefix">
/// Text between prompt and label as the model sees it: " " (default) for "72 - 46 =" → " 26"; "\n" or "" for the
/// paper's fine-tuning format, depending on the tokenizer.
/// </param>
/// <param name="Tokenization">Which convention turns the label into tokens.</param>
/// <param name="CheckCorruptedLabel">Also require a defined corrupted label to be one token (needed for logit diffs).</param>
public sealed record ValidationOptions(
    string LabelPrefix = " ",
    LabelTokenization Tokenization = LabelTokenization.Standalone,
    bool CheckCorruptedLabel = false)
{
    public static ValidationOptions Default { get; } = new();
}

/// <summary>Outcome of a validation: how many examples were kept and how many failed for each reason.</summary>
/// <remarks>An example can fail for several reasons; <see cref="Rejected"/> counts examples, the reasons count failures.</remarks>
public sealed record ValidationReport(
    int Total,
    int Kept,
    IReadOnlyDictionary<ValidationReason, int> ReasonCounts,
    TaskExample? FirstRejected,
    IReadOnlyList<ValidationReason> FirstRejectedReasons)
{
    public int Rejected => Total - Kept;

    public int Count(ValidationReason reason) => ReasonCounts.TryGetValue(reason, out var c) ? c : 0;

    public override string ToString()
    {
        var reasons = ReasonCounts.Count == 0 ? "none"
            : string.Join(", ", ReasonCounts.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {kv.Value}"));
        return $"kept {Kept} of {Total} (rejected {Rejected}; reasons: {reasons})";
    }
}

public sealed record ValidationResult(IReadOnlyList<TaskExample> Kept, ValidationReport Report);

public sealed class TaskValidationException(ValidationReport report, string message) : Exception(message)
{
    public ValidationReport Report { get; } = report;
}

/// <summary>
/// Checks examples against a model's tokenizer: the label is exactly one token, and clean and corrupted prompts
/// have the same token count (activation patching aligns positions one to one).
/// </summary>
public static class TaskValidator
{
    public static ValidationResult Validate(IEnumerable<TaskExample> examples, ITokenizer tokenizer,
        ValidationMode mode = ValidationMode.Filter, ValidationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(tokenizer);
        options ??= ValidationOptions.Default;
        var kept = new List<TaskExample>();
        var counts = new Dictionary<ValidationReason, int>();
        TaskExample? firstBad = null;
        IReadOnlyList<ValidationReason> firstReasons = [];
        int total = 0;
        foreach (var ex in examples)
        {
            total++;
            var reasons = Check(ex, tokenizer, options);
            if (reasons.Count == 0) { kept.Add(ex); continue; }
            foreach (var r in reasons) counts[r] = counts.GetValueOrDefault(r) + 1;
            if (firstBad is null) (firstBad, firstReasons) = (ex, reasons);
        }
        var report = new ValidationReport(total, kept.Count, counts, firstBad, firstReasons);
        if (mode == ValidationMode.Fail && firstBad is not null)
            throw new TaskValidationException(report,
                $"Task validation failed: {report}. First offending example ({string.Join(", ", firstReasons)}): {firstBad}");
        return new ValidationResult(kept, report);
    }

    /// <summary>The reasons one example fails (empty when valid).</summary>
    public static IReadOnlyList<ValidationReason> Check(TaskExample example, ITokenizer tokenizer, ValidationOptions? options = null)
    {
        options ??= ValidationOptions.Default;
        var reasons = new List<ValidationReason>();
        var label = LabelTokens(example.Clean, example.Label, tokenizer, options);
        if (label is null) reasons.Add(ValidationReason.LabelMergesWithPrompt);
        else if (label.Count != 1) reasons.Add(ValidationReason.LabelNotSingleToken);
        if (options.CheckCorruptedLabel && example.CorruptedLabel is not null)
        {
            var c = LabelTokens(example.Corrupted, example.CorruptedLabel, tokenizer, options);
            if (c is null) reasons.Add(ValidationReason.LabelMergesWithPrompt);
            else if (c.Count != 1) reasons.Add(ValidationReason.CorruptedLabelNotSingleToken);
        }
        if (tokenizer.Encode(example.Clean).Count != tokenizer.Encode(example.Corrupted).Count)
            reasons.Add(ValidationReason.TokenCountMismatch);
        return reasons.Distinct().ToArray();
    }

    /// <summary>The single token id of the label under the options' convention; throws if it is not one token.</summary>
    public static int LabelTokenId(string prompt, string label, ITokenizer tokenizer, ValidationOptions? options = null)
    {
        options ??= ValidationOptions.Default;
        var t = LabelTokens(prompt, label, tokenizer, options);
        if (t is null || t.Count != 1)
            throw new ArgumentException(
                $"Label \"{label}\" is not a single token after prompt \"{prompt}\" ({options.Tokenization}, prefix " +
                $"\"{options.LabelPrefix.Replace("\n", "\\n")}\"): {(t is null ? "it merges with the prompt" : $"{t.Count} tokens")}.");
        return t[0];
    }

    /// <summary>The label's tokens under the options' convention, or null when it merges with the prompt (InContext).</summary>
    public static IReadOnlyList<int>? LabelTokens(string prompt, string label, ITokenizer tokenizer, ValidationOptions options)
    {
        if (options.Tokenization == LabelTokenization.Standalone)
            return tokenizer.Encode(options.LabelPrefix + label);
        var p = tokenizer.Encode(prompt);
        var full = tokenizer.Encode(prompt + options.LabelPrefix + label);
        if (full.Count < p.Count) return null;
        for (int i = 0; i < p.Count; i++)
            if (full[i] != p[i]) return null;
        return full.Skip(p.Count).ToArray();
    }
}
