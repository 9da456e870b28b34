using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Circuits.Attribution;

/// <summary>
/// One mini-batch of paired prompts: clean and corrupted tokens [b, p] of identical shape (and, when padded, the
/// same attention mask — the pair must have the same token count per row), plus the metric for these rows.
/// </summary>
public sealed record AttributionBatch(Tensor Clean, Tensor Corrupted, Tensor? AttentionMask, Metric Metric)
{
    public int Rows => (int)Clean.shape[0];

    /// <summary>Rows <paramref name="start"/> … <paramref name="start"/> + <paramref name="count"/> − 1 as a batch of their own (views, metric restricted).</summary>
    public AttributionBatch Slice(int start, int count) => start == 0 && count == Rows
        ? this
        : new(Clean.narrow(0, start, count), Corrupted.narrow(0, start, count), AttentionMask?.narrow(0, start, count), Metric.Rows(start, count));

    /// <summary>A batch whose metric is KL(clean ‖ current) at the answer position (runs the clean prompts once).</summary>
    public static AttributionBatch WithKlMetric(HookedTransformer model, Tensor clean, Tensor corrupted, Tensor? attentionMask = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var logits = model.Forward(clean, attentionMask);
        return new AttributionBatch(clean, corrupted, attentionMask, Metric.KlToClean(logits, attentionMask));
    }
}
