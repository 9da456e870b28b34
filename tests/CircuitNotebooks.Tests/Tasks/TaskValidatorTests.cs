using CircuitNotebooks.Tasks;
using Xunit;

namespace CircuitNotebooks.Tests.Tasks;

public class TaskValidatorTests
{
    private static readonly TaskExample Good = new("72 - 46 =", "72 + 46 =", "26", "118");
    private static readonly TaskExample TwoTokenLabel = new("1 + 1 =", "1 - 1 =", "2 0");
    private static readonly TaskExample LengthMismatch = new("3 + 4 =", "3 + 4 + 5 =", "7");
    private static readonly TaskExample Both = new("3 - 2 =", "3 =", "x y");

    [Fact]
    public void Filter_KeepsValidExamplesAndCountsEachReason()
    {
        var r = TaskValidator.Validate([Good, TwoTokenLabel, LengthMismatch, Both], new WhitespaceTokenizer());
        Assert.Equal([Good], r.Kept);
        Assert.Equal(4, r.Report.Total);
        Assert.Equal(1, r.Report.Kept);
        Assert.Equal(3, r.Report.Rejected);
        Assert.Equal(2, r.Report.Count(ValidationReason.LabelNotSingleToken));
        Assert.Equal(2, r.Report.Count(ValidationReason.TokenCountMismatch));
        Assert.Equal(0, r.Report.Count(ValidationReason.LabelMergesWithPrompt));
        Assert.Equal(TwoTokenLabel, r.Report.FirstRejected);
    }

    [Fact]
    public void Fail_ThrowsWithCountsAndFirstOffender_ButNotWhenAllValid()
    {
        var tok = new WhitespaceTokenizer();
        var ex = Assert.Throws<TaskValidationException>(() =>
            TaskValidator.Validate([Good, LengthMismatch, TwoTokenLabel], tok, ValidationMode.Fail));
        Assert.Contains("TokenCountMismatch: 1", ex.Message);
        Assert.Contains("LabelNotSingleToken: 1", ex.Message);
        Assert.Contains(LengthMismatch.Corrupted, ex.Message);
        Assert.Equal(2, ex.Report.Rejected);

        var ok = TaskValidator.Validate([Good, Good], tok, ValidationMode.Fail);
        Assert.Equal(2, ok.Kept.Count);
    }

    [Fact]
    public void CharTokenizer_RejectsExactlyTheMultiCharLabels()
    {
        // Independent expectation: with one token per char and no label prefix, a label is one token iff it has one char.
        var data = new AddSubGenerator("t", new AddSubOptions(20)).Generate(200, 8, PromptTemplate.Short);
        var r = TaskValidator.Validate(data, new CharTokenizer(), options: new ValidationOptions(LabelPrefix: ""));
        int multi = data.Count(e => e.Label.Length != 1);
        int lenDiff = data.Count(e => e.Clean.Length != e.Corrupted.Length);
        Assert.Equal(0, lenDiff);
        Assert.Equal(multi, r.Report.Count(ValidationReason.LabelNotSingleToken));
        Assert.Equal(data.Where(e => e.Label.Length == 1), r.Kept);
        Assert.True(multi > 0 && r.Kept.Count > 0);
        // With the default " " prefix every label has ≥ 2 chars → all rejected.
        Assert.Equal(0, TaskValidator.Validate(data, new CharTokenizer()).Report.Kept);
    }

    [Fact]
    public void InContext_DetectsLabelMergingWithPrompt()
    {
        var tok = new WhitespaceTokenizer();
        var merged = TaskValidator.Check(Good, tok, new ValidationOptions("", LabelTokenization.InContext));
        Assert.Equal([ValidationReason.LabelMergesWithPrompt], merged); // "=26" is one word
        Assert.Empty(TaskValidator.Check(Good, tok, new ValidationOptions(" ", LabelTokenization.InContext)));
        Assert.Equal(tok.Encode("26")[0], TaskValidator.LabelTokenId(Good.Clean, Good.Label, tok));
    }

    [Fact]
    public void CorruptedLabelCheckIsOptIn()
    {
        var ex = new TaskExample("1 + 2 =", "1 - 2 =", "3", "minus one");
        var tok = new WhitespaceTokenizer();
        Assert.Empty(TaskValidator.Check(ex, tok));
        Assert.Equal([ValidationReason.CorruptedLabelNotSingleToken],
            TaskValidator.Check(ex, tok, new ValidationOptions(CheckCorruptedLabel: true)));
    }

    [Fact]
    public void GeneratedDatasetsPassAWordLevelTokenizer()
    {
        // Every generator keeps clean/corrupted token counts equal for a word-level tokenizer; labels are one word.
        var tok = new WhitespaceTokenizer();
        foreach (var name in TaskRegistry.Default.Names)
        {
            var data = TaskRegistry.Default.Get(name).Generate(100, 2, PromptTemplate.Paper);
            var r = TaskValidator.Validate(data, tok);
            Assert.True(r.Report.Kept == 100, $"{name}: {r.Report}");
        }
    }
}
