using CircuitNotebooks.Tasks;
using Xunit;

namespace CircuitNotebooks.Tests.Tasks;

public class SplitAndFormatTests
{
    [Fact]
    public void Split_IsNinetyTenPartitionAndDeterministic()
    {
        var items = Enumerable.Range(0, 5000).ToArray();
        var s = DatasetSplit.TrainTest(items);
        Assert.Equal(4500, s.Train.Count);
        Assert.Equal(500, s.Test.Count);
        Assert.Equal(items, s.Train.Concat(s.Test).Order());             // every item exactly once
        var again = DatasetSplit.TrainTest(items, 0.9, 42);
        Assert.Equal(s.Train, again.Train);
        Assert.Equal(s.Test, again.Test);
        Assert.NotEqual(s.Test, DatasetSplit.TrainTest(items, 0.9, 7).Test);
        Assert.NotEqual(items[4500..], s.Test);                           // shuffled, not a tail cut
    }

    [Fact]
    public void Split_RejectsBadFraction() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplit.TrainTest(new[] { 1, 2 }, 1.5));

    [Fact]
    public void FineTuneText_PaperIsPromptNewlineAnswer_WithAnswerSpan()
    {
        var ex = new TaskExample("P: 72 - 46 =", "P: 72 + 46 =", "26");
        var f = FineTuneFormat.Format(ex, PromptTemplate.Paper);
        Assert.Equal("P: 72 - 46 =\n26", f.Text);
        Assert.Equal("26", f.Text.Substring(f.AnswerStart, f.AnswerLength));
        var answerChars = new string(f.Text.Where((_, i) => f.IsAnswerChar(i)).ToArray());
        Assert.Equal("26", answerChars);

        var s = FineTuneFormat.Format(ex, PromptTemplate.Short);
        Assert.Equal("P: 72 - 46 = 26", s.Text);
        Assert.Equal("26", s.Answer);
    }

    [Fact]
    public void FineTuneTokens_MaskOnlyAnswerTokens()
    {
        var tok = new WhitespaceTokenizer();
        var f = FineTuneFormat.Format(new TaskExample("72 - 46 =", "72 + 46 =", "2 6"), PromptTemplate.Paper);
        var t = FineTuneFormat.Tokenize(f, tok, appendEos: true);
        Assert.Equal(["72", "-", "46", "=", "2", "6", "<eos>"], t.Ids.Select(tok.TokenToString));
        Assert.Equal([false, false, false, false, true, true, true], t.IsAnswer);

        // A token straddling the boundary counts as answer (char tokenizer: never straddles, check count).
        var c = FineTuneFormat.Tokenize(FineTuneFormat.Format("ab", "xyz", "\n"), new CharTokenizer());
        Assert.Equal(3, c.IsAnswer.Count(m => m));
        Assert.Equal([false, false, false, true, true, true], c.IsAnswer);
    }
}
