using System.Text.RegularExpressions;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using CircuitNotebooks.Tasks;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Tasks;

public class EntityAnalysisGlueTests
{
    private static readonly Regex Segment = new(@"[Tt]he (\w+) is in Box (\w+)");
    private static readonly Regex Query = new(@"Box (\w+) contains the$");

    private static HookedTransformer TinyModel()
    {
        var m = HookedTransformer.Create(TinySuiteModel.Config with { NLayers = 1, DModel = 16, NHeads = 2, DMlp = 16, RotaryDim = 4 }, 1);
        m.Tokenizer = TinySuiteModel.CreateTokenizer();
        return m;
    }

    [Fact]
    public void RolesPointAtTheQueryLabelAndItsSegment()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModel();
        var examples = TinySuite.EntityTracking.Generate(40, 3, TinySuite.Template);
        var (clean, corrupted) = EntityTrackingBatches.Pair(model, examples);
        using (clean)
        using (corrupted)
        {
            foreach (var (batch, corrupt) in new[] { (clean, false), (corrupted, true) })
            {
                var tokens = batch.Tokens.data<long>().ToArray();
                string Tok(int r, int p) => model.Tokenizer!.TokenToString((int)tokens[r * batch.Length + p]);
                var q = batch.PositionsOf(EntityTrackingBatches.QueryLabel);
                var prev = batch.PositionsOf(EntityTrackingBatches.PrevQueryLabel);
                var last = batch.PositionsOf(PromptBatch.Last);
                for (int r = 0; r < batch.Rows; r++)
                {
                    var ex = examples[r];
                    string box = ex.Metadata[corrupt ? "corrupted_query_box" : "query_box"];
                    int segment = int.Parse(ex.Metadata[corrupt ? "corrupted_answer_index" : "answer_index"]);
                    Assert.Equal(box, Tok(r, q[r]));
                    Assert.Equal(box, Tok(r, prev[r]));
                    Assert.Equal("Box", Tok(r, prev[r] - 1));
                    Assert.Equal(last[r] - 2, q[r]);
                    // "<bos> The o is in Box L ," : segment i's label is token 6 + 7 i.
                    Assert.Equal(6 + 7 * segment, prev[r]);
                    Assert.Equal(model.Tokenizer!.Encode(" " + (corrupt ? ex.CorruptedLabel : ex.Label))[0], batch.Labels[r]);
                }
            }
        }
    }

    [Theory]
    [InlineData(EntityDesideratum.Positional)]
    [InlineData(EntityDesideratum.ObjectValue)]
    [InlineData(EntityDesideratum.BoxLabelValue)]
    public void DesiderataTargetsFollowTheirDefinitionAndDisagreeWithTheOtherHypotheses(EntityDesideratum kind)
    {
        var options = new EntityTrackingOptions(NumBoxes: 3, Objects: TinySuite.Objects, BoxLabels: TinySuite.BoxLabels);
        var data = EntityDesiderata.Generate(options, kind, 200, 5, TinySuite.Template);
        Assert.Equal(data, EntityDesiderata.Generate(options, kind, 200, 5, TinySuite.Template));
        foreach (var e in data)
        {
            var (bObj, bBox, bq) = Parse(e.Base);
            var (sObj, sBox, sq) = Parse(e.Source);
            Assert.Equal(bq, e.BaseQueryBox);
            Assert.Equal(sq, e.SourceQueryBox);
            Assert.Equal(bObj[Array.IndexOf(bBox, bq)], e.BaseAnswer);
            int qs = Array.IndexOf(sBox, sq);
            Assert.Equal(sObj[qs], e.SourceAnswer);
            Assert.NotEqual(Array.IndexOf(bBox, bq), qs); // the source asks about another segment
            string positional = bObj[qs], objectValue = sObj[qs];
            string? label = Array.IndexOf(bBox, sq) is int k and >= 0 ? bObj[k] : null;
            string expected = kind switch
            {
                EntityDesideratum.Positional => positional,
                EntityDesideratum.ObjectValue => objectValue,
                _ => label ?? throw new Xunit.Sdk.XunitException("box-label source must ask about a base label"),
            };
            Assert.Equal(expected, e.Target);
            // The hypotheses predict different answers, and none predicts the base's own answer.
            var predictions = new[] { positional, objectValue, label }.Where(x => x is not null).ToList();
            Assert.Equal(predictions.Count, predictions.Distinct().Count());
            Assert.DoesNotContain(e.BaseAnswer, predictions);
        }
    }

    [Fact]
    public void DesiderataPairsCarryTargetsAndRolesForBothPrompts()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModel();
        var options = new EntityTrackingOptions(NumBoxes: 3, Objects: TinySuite.Objects, BoxLabels: TinySuite.BoxLabels);
        var data = EntityDesiderata.Generate(options, EntityDesideratum.Positional, 10, 1, TinySuite.Template);
        using var pair = EntityDesiderata.ToPair(model, data);
        Assert.Equal(data.Select(e => (long)model.Tokenizer!.Encode(" " + e.Target)[0]), pair.Base.Labels);
        Assert.Equal(data.Select(e => (long)model.Tokenizer!.Encode(" " + e.SourceAnswer)[0]), pair.Source.Labels);
        Assert.Equal(pair.Base.Rows, pair.Source.PositionsOf(EntityTrackingBatches.PrevQueryLabel).Length);
    }

    [Fact]
    public void LocateWorksForAnyTokenizerWhoseLabelEndsAToken()
    {
        using var scope = NewDisposeScope();
        using var model = HookedTransformer.Create(TinySuiteModel.Config with { NLayers = 1, DModel = 16, NHeads = 2, DMlp = 16, RotaryDim = 4 }, 1);
        const string prompt = "The pie is in Box K, the cup is in Box Q. Box Q contains the";
        model.Tokenizer = new CharTokenizer(); // no BOS: token index = character index
        Assert.Equal((prompt.LastIndexOf('Q'), prompt.IndexOf('Q')), EntityTrackingBatches.Locate(model, prompt, "Q"));
        // Whitespace words glue the label to its comma ("Q."), so the label's token is ambiguous: a clear error.
        model.Tokenizer = new WhitespaceTokenizer();
        var ex = Assert.Throws<ArgumentException>(() => EntityTrackingBatches.Locate(model, prompt, "Q"));
        Assert.Contains("does not tokenize as a prefix", ex.Message);
        Assert.Throws<ArgumentException>(() => EntityTrackingBatches.Locate(model, prompt, "Z"));
    }

    private static (string[] Objects, string[] Boxes, string Query) Parse(string prompt)
    {
        var segs = Segment.Matches(prompt);
        var q = Query.Match(prompt);
        Assert.True(q.Success, prompt);
        return (segs.Select(m => m.Groups[1].Value).ToArray(), segs.Select(m => m.Groups[2].Value).ToArray(), q.Groups[1].Value);
    }
}
