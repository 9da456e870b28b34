using CircuitNotebooks.Tasks;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Tasks;

public class TaskBatchesTests
{
    private static long Id(string word) => TinySuite.Vocabulary.ToList().IndexOf(word);

    [Fact]
    public void BatchHoldsTheTokensOfBothPromptsAndALogitDiffOverTheLabels()
    {
        using var model = TinySuiteModel.CreateUntrained(seed: 3);
        var examples = new[]
        {
            new TaskExample("72 - 46 =", "72 + 46 =", "26", "118"),
            new TaskExample("9 + 3 =", "9 - 3 =", "12", "6"),
        };
        var batch = TaskBatches.ForAttribution(model, examples, TaskMetric.LogitDiff);
        // Word-level vocabulary: one token per word, <bos> first, both prompts 5 tokens.
        Assert.Equal(new[] { Id("<bos>"), Id("72"), Id("-"), Id("46"), Id("="), Id("<bos>"), Id("9"), Id("+"), Id("3"), Id("=") },
                     batch.Clean.data<long>().ToArray());
        Assert.Equal(new[] { Id("<bos>"), Id("72"), Id("+"), Id("46"), Id("="), Id("<bos>"), Id("9"), Id("-"), Id("3"), Id("=") },
                     batch.Corrupted.data<long>().ToArray());
        Assert.Equal(new[] { Id("26"), Id("12") }, TaskBatches.LabelIds(model, examples));

        using var _ = no_grad();
        var logits = model.Forward(batch.Clean, batch.AttentionMask);
        double expected = 0;
        var pairs = new[] { (Id("26"), Id("118")), (Id("12"), Id("6")) };
        for (int b = 0; b < 2; b++)
            expected += logits[b, 4, pairs[b].Item1].item<float>() - (double)logits[b, 4, pairs[b].Item2].item<float>();
        Assert.Equal(expected / 2, batch.Metric.Evaluate(logits), 4);
    }

    [Fact]
    public void KlMetricIsZeroOnTheCleanRunItself()
    {
        using var model = TinySuiteModel.CreateUntrained(seed: 4);
        var batch = TaskBatches.ForAttribution(model, [new TaskExample("1 + 2 =", "1 - 2 =", "3")], TaskMetric.Kl);
        using var _ = no_grad();
        Assert.Equal(0.0, batch.Metric.Evaluate(model.Forward(batch.Clean, batch.AttentionMask)), 6);
        Assert.True(batch.Metric.Evaluate(model.Forward(batch.Corrupted, batch.AttentionMask)) > 0);
    }

    [Fact]
    public void MisalignedPairsAndMissingCorruptedLabelsAreClearErrors()
    {
        using var model = TinySuiteModel.CreateUntrained(seed: 5);
        var e = Assert.Throws<ArgumentException>(() => TaskBatches.ForAttribution(model, [new TaskExample("1 + 2 =", "1 + 2 + 3 =", "3", "6")]));
        Assert.Contains("Example 0", e.Message);
        Assert.Contains("5 tokens", e.Message);
        var m = Assert.Throws<ArgumentException>(() => TaskBatches.ForAttribution(model, [new TaskExample("1 + 2 =", "1 - 2 =", "3")]));
        Assert.Contains("TaskMetric.Kl", m.Message);
    }
}
