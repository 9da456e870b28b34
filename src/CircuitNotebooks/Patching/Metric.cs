using CircuitNotebooks.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Patching;

/// <summary>
/// A patching / attribution metric: logits [b, p, V] → one value per example [b], read at the answer position
/// (the last real token of each row, so left and right padding both work). Metrics are values: build one per task
/// batch and hand it to patching, attribution and faithfulness code alike. <see cref="Mean"/> is what attribution
/// differentiates; <see cref="PerExample"/> is what batched patching splits by copy.
/// </summary>
public sealed class Metric
{
    private readonly Func<Tensor, Tensor> _ofAnswerLogits;
    private readonly Tensor? _attentionMask;

    private Metric(string name, int batchSize, Tensor? attentionMask, Func<Tensor, Tensor> ofAnswerLogits)
    {
        Name = name;
        BatchSize = batchSize;
        _attentionMask = attentionMask;
        _ofAnswerLogits = ofAnswerLogits;
    }

    public string Name { get; }
    /// <summary>The number of rows the metric was built for; logits must have exactly this many.</summary>
    public int BatchSize { get; }

    /// <summary>Metric per example, [b] (same dtype and device as the logits).</summary>
    public Tensor PerExample(Tensor logits)
    {
        if (logits.dim() != 3 || logits.shape[0] != BatchSize)
            throw new ArgumentException(
                $"Metric '{Name}' expects logits [{BatchSize}, pos, vocab], got [{string.Join(", ", logits.shape)}].", nameof(logits));
        return _ofAnswerLogits(AnswerLogits(logits, _attentionMask));
    }

    /// <summary>
    /// Where each row's metric reads the logits, [b] int64: every metric is a function of the logits at these
    /// positions only, so callers may compute just those (<see cref="PerExampleAtAnswer"/>).
    /// </summary>
    internal Tensor AnswerPositions(long pos, Device device) => AnswerPositions(_attentionMask, BatchSize, pos, device);

    /// <summary><see cref="PerExample"/> from the logits at <see cref="AnswerPositions(long, Device)"/> only, [b, V].</summary>
    internal Tensor PerExampleAtAnswer(Tensor answerLogits)
    {
        if (answerLogits.dim() != 2 || answerLogits.shape[0] != BatchSize)
            throw new ArgumentException(
                $"Metric '{Name}' expects answer logits [{BatchSize}, vocab], got [{string.Join(", ", answerLogits.shape)}].", nameof(answerLogits));
        return _ofAnswerLogits(answerLogits);
    }

    /// <summary>
    /// ln_final and the unembedding at each row's answer position only, from final residuals [copies·b, p, d] that hold
    /// <paramref name="copies"/> stacked copies of this metric's rows: [copies·b, V]. Every metric reads just these
    /// logits, and the full [b, p, V] block is the largest activation of a forward at large vocabularies.
    /// </summary>
    internal Tensor UnembedAtAnswers(HookedTransformer model, Tensor resid, int copies = 1)
    {
        long b = resid.shape[0], p = resid.shape[1], d = resid.shape[2];
        var at = AnswerPositions(p, resid.device).repeat(copies).view(b, 1, 1).expand(b, 1, d);
        return model.Unembed(model.ln_final.Forward(resid.gather(1, at))).squeeze(1);
    }

    /// <summary>Batch mean of <see cref="PerExampleAtAnswer"/> as a double (no autograd).</summary>
    internal double EvaluateAtAnswer(Tensor answerLogits)
    {
        using var scope = NewDisposeScope();
        return PerExampleAtAnswer(answerLogits).mean().to_type(ScalarType.Float64).item<double>();
    }

    /// <summary>Batch mean of <see cref="PerExample"/> as a 0-d tensor (differentiable).</summary>
    public Tensor Mean(Tensor logits) => PerExample(logits).mean();

    /// <summary>Batch mean as a double (no autograd).</summary>
    public double Evaluate(Tensor logits)
    {
        using var scope = NewDisposeScope();
        return Mean(logits).to_type(ScalarType.Float64).item<double>();
    }

    /// <summary>
    /// The same metric for rows <paramref name="start"/> … <paramref name="start"/> + <paramref name="count"/> − 1 only
    /// (logits of just those rows go in). Metrics are per-example functions, so the sub-batch's answer logits are
    /// placed at their rows of a full-size block (other rows zero), the metric is applied, and those rows are read
    /// back: gradients flow to the sub-batch unchanged, whatever per-row data the metric closed over.
    /// </summary>
    public Metric Rows(int start, int count)
    {
        if (start < 0 || count < 1 || start + count > BatchSize)
            throw new ArgumentOutOfRangeException(nameof(count), $"Rows {start}..{start + count - 1} are outside metric '{Name}''s 0..{BatchSize - 1}.");
        if (start == 0 && count == BatchSize) return this;
        var mask = _attentionMask?.narrow(0, start, count).DetachFromDisposeScope();
        return new Metric($"{Name}[{start}..{start + count - 1}]", count, mask, a =>
        {
            using var rows = arange(start, start + count, dtype: ScalarType.Int64, device: a.device);
            var full = zeros([BatchSize, a.shape[1]], dtype: a.dtype, device: a.device).index_copy(0, rows, a);
            return _ofAnswerLogits(full).narrow(0, start, count);
        });
    }

    /// <summary>A metric from any per-example function of the answer-position logits [b, V].</summary>
    public static Metric Custom(string name, Tensor? attentionMask, int batchSize, Func<Tensor, Tensor> ofAnswerLogits) =>
        new(name, batchSize, attentionMask, ofAnswerLogits);

    /// <summary>logit(correct) − logit(wrong) at the answer position.</summary>
    public static Metric LogitDiff(long[] correct, long[] wrong, Tensor? attentionMask = null)
    {
        CheckSameLength(correct, wrong);
        return Custom("logit_diff", attentionMask, correct.Length, a => Gather(a, correct) - Gather(a, wrong));
    }

    /// <summary>p(correct) at the answer position.</summary>
    public static Metric Probability(long[] correct, Tensor? attentionMask = null) =>
        Custom("probability", attentionMask, correct.Length, a => Gather(a.softmax(-1), correct));

    /// <summary>p(correct) − p(wrong) at the answer position.</summary>
    public static Metric ProbabilityDiff(long[] correct, long[] wrong, Tensor? attentionMask = null)
    {
        CheckSameLength(correct, wrong);
        return Custom("probability_diff", attentionMask, correct.Length, a =>
        {
            var p = a.softmax(-1);
            return Gather(p, correct) - Gather(p, wrong);
        });
    }

    /// <summary>
    /// (p(correct) − p_clean(correct)) / p_clean(correct): the path-patching score of Prakash et al.,
    /// with the clean probabilities taken from <paramref name="cleanLogits"/> [b, p, V].
    /// </summary>
    public static Metric RelativeProbabilityChange(long[] correct, Tensor cleanLogits, Tensor? attentionMask = null)
    {
        Tensor pClean;
        using (no_grad())
            pClean = Gather(AnswerLogits(cleanLogits, attentionMask).softmax(-1), correct).detach().DetachFromDisposeScope();
        return Custom("relative_probability_change", attentionMask, correct.Length, a =>
            (Gather(a.softmax(-1), correct) - pClean.to(a.dtype, a.device)) / pClean.to(a.dtype, a.device));
    }

    /// <summary>
    /// KL(clean ‖ current) at the answer position: 0 on the clean run, growing as patching moves the distribution
    /// (the EAP-IG paper's metric; attribution of it is the first-order change in KL).
    /// </summary>
    public static Metric KlToClean(Tensor cleanLogits, Tensor? attentionMask = null)
    {
        Tensor cleanLogProbs;
        using (no_grad())
            cleanLogProbs = AnswerLogits(cleanLogits, attentionMask).log_softmax(-1).detach().DetachFromDisposeScope();
        return Custom("kl_to_clean", attentionMask, (int)cleanLogits.shape[0], a =>
        {
            var lp = a.log_softmax(-1);
            var c = cleanLogProbs.to(a.dtype, a.device);
            return (c.exp() * (c - lp)).sum(-1);
        });
    }

    /// <summary>−log p(correct) at the answer position.</summary>
    public static Metric CrossEntropy(long[] correct, Tensor? attentionMask = null) =>
        Custom("cross_entropy", attentionMask, correct.Length, a => -Gather(a.log_softmax(-1), correct));

    /// <summary>1 when argmax of the answer-position logits is the correct token, else 0 (not differentiable).</summary>
    public static Metric Accuracy(long[] correct, Tensor? attentionMask = null) =>
        Custom("accuracy", attentionMask, correct.Length, a =>
            a.argmax(-1).eq(tensor(correct, device: a.device)).to_type(a.dtype));

    /// <summary>
    /// Index of the last real token of each row [b] (int64): right padding → length − 1, left padding → p − 1.
    /// Without a mask every row's answer position is p − 1.
    /// </summary>
    public static Tensor AnswerPositions(Tensor? attentionMask, long batch, long pos, Device device)
    {
        if (attentionMask is null) return full(batch, pos - 1, dtype: ScalarType.Int64, device: device);
        var m = attentionMask.to(device).to_type(ScalarType.Int64);
        var idx = arange(pos, dtype: ScalarType.Int64, device: device).unsqueeze(0) * m;
        return idx.amax([1]);
    }

    /// <summary>Logits at each row's answer position, [b, V].</summary>
    public static Tensor AnswerLogits(Tensor logits, Tensor? attentionMask)
    {
        long b = logits.shape[0], p = logits.shape[1];
        if (attentionMask is not null && (attentionMask.shape[0] != b || attentionMask.shape[1] != p))
            throw new ArgumentException(
                $"attentionMask [{string.Join(", ", attentionMask.shape)}] does not match logits [{b}, {p}, ..].", nameof(attentionMask));
        var pos = AnswerPositions(attentionMask, b, p, logits.device);
        var index = pos.view(b, 1, 1).expand(b, 1, logits.shape[2]);
        return logits.gather(1, index).squeeze(1);
    }

    private static Tensor Gather(Tensor answer, long[] ids)
    {
        if (ids.Length != answer.shape[0])
            throw new ArgumentException($"Metric has {ids.Length} answer tokens for a batch of {answer.shape[0]} rows.");
        var idx = tensor(ids, dtype: ScalarType.Int64, device: answer.device).unsqueeze(1);
        return answer.gather(1, idx).squeeze(1);
    }

    private static void CheckSameLength(long[] a, long[] b)
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"correct has {a.Length} tokens but wrong has {b.Length}.");
    }

    public override string ToString() => Name;
}
