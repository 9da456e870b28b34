using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tasks;

/// <summary>Which metric a task batch carries for patching, attribution and faithfulness.</summary>
public enum TaskMetric
{
    /// <summary>logit(label) − logit(corrupted label) at the answer position; needs a corrupted label per example.</summary>
    LogitDiff,
    /// <summary>KL(clean ‖ current) at the answer position (the EAP-IG paper's metric; works for every task).</summary>
    Kl,
    /// <summary>p(label) at the answer position.</summary>
    Probability,
}

/// <summary>Turns task examples into the clean/corrupted token batch and metric that patching and circuit code take.</summary>
public static class TaskBatches
{
    /// <summary>
    /// Clean and corrupted prompts right-padded to one [b, p] batch (the pair of each example must have the same token
    /// count) with the attention mask, and the metric over their single-token labels. The caller owns the tensors
    /// (dispose <see cref="AttributionBatch.Clean"/>, <see cref="AttributionBatch.Corrupted"/> and the mask).
    /// </summary>
    /// <param name="labelPrefix">Text between prompt and label as the model sees it (" " for "72 - 46 =" → " 26").</param>
    public static AttributionBatch ForAttribution(HookedTransformer model, IReadOnlyList<TaskExample> examples,
        TaskMetric metric = TaskMetric.LogitDiff, string labelPrefix = " ")
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0) throw new ArgumentException("No examples.", nameof(examples));
        var tok = model.Tokenizer ?? throw new InvalidOperationException("The model has no tokenizer; set model.Tokenizer or load with FromPretrained.");
        var options = new ValidationOptions(labelPrefix);
        var clean = new List<int[]>();
        var corrupt = new List<int[]>();
        var labels = new long[examples.Count];
        var wrong = new long[examples.Count];
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i];
            clean.Add(model.Encode(e.Clean));
            corrupt.Add(model.Encode(e.Corrupted));
            if (clean[i].Length != corrupt[i].Length)
                throw new ArgumentException($"Example {i}: clean prompt \"{e.Clean}\" has {clean[i].Length} tokens, corrupted \"{e.Corrupted}\" " +
                                            $"{corrupt[i].Length}; patching needs equal counts (filter with TaskValidator).", nameof(examples));
            labels[i] = TaskValidator.LabelTokenId(e.Clean, e.Label, tok, options);
            if (metric == TaskMetric.LogitDiff)
            {
                var cl = e.CorruptedLabel ?? throw new ArgumentException(
                    $"Example {i} has no corrupted label, so the logit difference is undefined; use TaskMetric.Kl or Probability.", nameof(examples));
                wrong[i] = TaskValidator.LabelTokenId(e.Corrupted, cl, tok, options);
            }
        }
        var cb = model.Pad(clean, PaddingSide.Right);
        var kb = model.Pad(corrupt, PaddingSide.Right);
        kb.AttentionMask.Dispose();
        var m = metric switch
        {
            TaskMetric.LogitDiff => Metric.LogitDiff(labels, wrong, cb.AttentionMask),
            TaskMetric.Probability => Metric.Probability(labels, cb.AttentionMask),
            TaskMetric.Kl => KlMetric(model, cb.Tokens, cb.AttentionMask),
            _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "unknown metric"),
        };
        return new AttributionBatch(cb.Tokens, kb.Tokens, cb.AttentionMask, m);
    }

    /// <summary>Label token ids [b] (int64) of the examples, as the metric reads them.</summary>
    public static long[] LabelIds(HookedTransformer model, IReadOnlyList<TaskExample> examples, string labelPrefix = " ")
    {
        var tok = model.Tokenizer ?? throw new InvalidOperationException("The model has no tokenizer.");
        return examples.Select(e => (long)TaskValidator.LabelTokenId(e.Clean, e.Label, tok, new ValidationOptions(labelPrefix))).ToArray();
    }

    private static Metric KlMetric(HookedTransformer model, Tensor tokens, Tensor mask)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return Metric.KlToClean(model.Forward(tokens, mask), mask);
    }
}
