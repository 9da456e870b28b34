using CircuitNotebooks.Models;
using CircuitNotebooks.Tasks;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Tools;

/// <summary>
/// Prompts with single-token answers, right-padded: the model must predict <see cref="Labels"/> at
/// <see cref="AnswerPositions"/> (the last prompt token of each row).
/// </summary>
public sealed class AnswerBatch : IDisposable
{
    public required TokenBatch Batch { get; init; }
    public required Tensor AnswerPositions { get; init; }
    public required Tensor Labels { get; init; }

    /// <summary>Builds the batch; a label that is not exactly one token is an error naming the example.</summary>
    public static AnswerBatch FromExamples(HookedTransformer model, IReadOnlyList<TaskExample> examples, bool corrupted = false)
    {
        var tok = model.Tokenizer ?? throw new InvalidOperationException("The model needs a tokenizer.");
        var seqs = new List<int[]>();
        var labels = new long[examples.Count];
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i];
            var label = corrupted ? e.CorruptedLabel ?? e.Label : e.Label;
            var ids = tok.Encode(" " + label);
            if (ids.Count != 1)
                throw new ArgumentException($"Example {i}: label '{label}' is {ids.Count} tokens; answers must be one token.");
            labels[i] = ids[0];
            seqs.Add(model.Encode(corrupted ? e.Corrupted : e.Clean));
        }
        var batch = model.Pad(seqs, PaddingSide.Right);
        return new AnswerBatch
        {
            Batch = batch,
            AnswerPositions = tensor(batch.Lengths.Select(l => (long)l - 1).ToArray(), device: model.Device).DetachFromDisposeScope(),
            Labels = tensor(labels, device: model.Device).DetachFromDisposeScope(),
        };
    }

    /// <summary>Logits at each row's answer position: [batch, d_vocab].</summary>
    public Tensor AnswerLogits(Tensor logits) =>
        logits.gather(1, AnswerPositions.view(-1, 1, 1).expand(-1, 1, logits.shape[2])).squeeze(1);

    public void Dispose()
    {
        Batch.Dispose();
        AnswerPositions.Dispose();
        Labels.Dispose();
    }
}
