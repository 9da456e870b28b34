using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.FineTuning;

/// <summary>
/// A right-padded micro-batch: tokens and attention mask [b, p], and for next-token prediction the targets
/// [b, p−1] (tokens shifted left) with a float mask [b, p−1] that is 1 where the target is an answer token.
/// Tensors belong to the caller's dispose scope.
/// </summary>
internal sealed record Batch(Tensor Tokens, Tensor AttentionMask, Tensor Targets, Tensor AnswerMask, long RealTokens, long AnswerTokens)
{
    public static Batch Collate(IReadOnlyList<TrainingExample> examples, long padId, Device device)
    {
        int b = examples.Count, p = examples.Max(e => e.Length);
        var ids = new long[b * p];
        var attn = new long[b * p];
        var answer = new float[b * (p - 1)];
        long real = 0, answers = 0;
        for (int i = 0; i < b; i++)
        {
            var e = examples[i];
            for (int t = 0; t < p; t++)
            {
                bool isReal = t < e.Length;
                ids[i * p + t] = isReal ? e.Ids[t] : padId;
                attn[i * p + t] = isReal ? 1 : 0;
                // Target t+1 is predicted at position t.
                if (t >= 1 && isReal && e.AnswerMask[t]) { answer[i * (p - 1) + t - 1] = 1; answers++; }
            }
            real += e.Length;
        }
        var tokens = tensor(ids, [b, p], dtype: ScalarType.Int64, device: device);
        return new Batch(
            tokens,
            tensor(attn, [b, p], dtype: ScalarType.Int64, device: device),
            tokens.narrow(1, 1, p - 1),
            tensor(answer, [b, p - 1], dtype: ScalarType.Float32, device: device),
            real, answers);
    }
}
