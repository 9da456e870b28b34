using CircuitNotebooks.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.FineTuning;

public static class Evaluation
{
    /// <summary>
    /// Exact-match accuracy: an example counts when the greedy (argmax) next token equals the label at every answer
    /// position, given the true prefix — the same verdict as greedy decoding of the answer, in one forward pass.
    /// With one-token labels this is the argmax at the last prompt position.
    /// </summary>
    public static double ExactMatch(HookedTransformer model, IReadOnlyList<Tasks.TaskExample> examples, int batchSize = 32,
        CancellationToken cancellationToken = default) =>
        ExactMatch(model, examples.Select(e => TrainingExample.FromTask(model, e)).ToList(), batchSize, cancellationToken);

    /// <inheritdoc cref="ExactMatch(HookedTransformer, IReadOnlyList{Tasks.TaskExample}, int, CancellationToken)"/>
    public static double ExactMatch(HookedTransformer model, IReadOnlyList<TrainingExample> examples, int batchSize = 32,
        CancellationToken cancellationToken = default)
    {
        TrainingExample.Validate(examples, "evaluation", model.Config.DVocab, model.Config.Rotary ? null : model.Config.NCtx);
        long padId = model.Tokenizer?.PadId ?? model.Tokenizer?.EosId ?? 0;
        int hits = 0;
        using var _ = no_grad();
        for (int start = 0; start < examples.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var chunk = examples.Skip(start).Take(batchSize).ToList();
            var batch = Batch.Collate(chunk, padId, model.Device);
            var logits = model.Forward(batch.Tokens, batch.AttentionMask);
            var pred = logits.narrow(1, 0, logits.shape[1] - 1).argmax(-1);
            var wrong = pred.ne(batch.Targets).logical_and(batch.AnswerMask.gt(0));
            hits += (int)wrong.any(1).logical_not().sum().item<long>();
        }
        return (double)hits / examples.Count;
    }
}
