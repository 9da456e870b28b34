using System.Text.RegularExpressions;
using CircuitNotebooks.Tasks;
using Xunit;

namespace CircuitNotebooks.Tests.Tasks;

public class EntityTrackingTests
{
    private static readonly Regex Segment = new(@"[Tt]he (\w+) is in Box (\w+)");
    private static readonly Regex Query = new(@"\. Box (\w+) contains the$");

    private static (string[] Objects, string[] Boxes, string Query) Parse(string prompt)
    {
        var segs = Segment.Matches(prompt);
        var q = Query.Match(prompt);
        Assert.True(q.Success, prompt);
        return (segs.Select(m => m.Groups[1].Value).ToArray(), segs.Select(m => m.Groups[2].Value).ToArray(), q.Groups[1].Value);
    }

    [Fact]
    public void AnswerIsTheObjectInTheQueriedBox_AndSwapCounterfactualMovesItToAnotherIndex()
    {
        var data = new EntityTrackingGenerator().Generate(500, 42, PromptTemplate.Paper);
        var answerIndices = new HashSet<int>();
        foreach (var ex in data)
        {
            Assert.StartsWith("The ", ex.Clean);
            var (objs, boxes, q) = Parse(ex.Clean);
            Assert.Equal(7, objs.Length);
            Assert.Equal(7, objs.Distinct().Count());
            Assert.Equal(7, boxes.Distinct().Count());
            int idx = Array.IndexOf(boxes, q);
            Assert.True(idx >= 0, "queried box must be in the context");
            Assert.Equal(objs[idx], ex.Label);
            Assert.Equal(idx.ToString(), ex.Metadata["answer_index"]);
            Assert.Equal(string.Join(",", boxes), ex.Metadata["box_labels"]);
            Assert.Equal(string.Join(",", objs), ex.Metadata["objects"]);
            answerIndices.Add(idx);

            var (cObjs, cBoxes, cq) = Parse(ex.Corrupted);
            Assert.Equal(q, cq);                                   // same question
            int cIdx = Array.IndexOf(cBoxes, cq);
            Assert.NotEqual(idx, cIdx);                            // answer sits at another box index
            Assert.Equal(ex.Label, cObjs[cIdx]);                   // same box still holds the same object
            Assert.Equal(ex.Label, ex.CorruptedLabel);
            Assert.Equal(cIdx.ToString(), ex.Metadata["corrupted_answer_index"]);
            // Only the two swapped segments change; pairs (object, box) are preserved as a set.
            var changed = Enumerable.Range(0, 7).Where(i => objs[i] != cObjs[i] || boxes[i] != cBoxes[i]).ToArray();
            Assert.Equal(new[] { Math.Min(idx, cIdx), Math.Max(idx, cIdx) }, changed);
            Assert.Equal(objs.Zip(boxes).Order(), cObjs.Zip(cBoxes).Order());
        }
        Assert.Equal(7, answerIndices.Count); // every position is queried somewhere
    }

    [Fact]
    public void FreshCounterfactual_HasOwnAnswerAtAnotherIndex()
    {
        var g = new EntityTrackingGenerator("et", new EntityTrackingOptions(Counterfactual: EntityCounterfactual.Fresh));
        foreach (var ex in g.Generate(200, 3, PromptTemplate.Short))
        {
            var (objs, boxes, q) = Parse(ex.Clean);
            var (cObjs, cBoxes, cq) = Parse(ex.Corrupted);
            int idx = Array.IndexOf(boxes, q), cIdx = Array.IndexOf(cBoxes, cq);
            Assert.Equal(objs[idx], ex.Label);
            Assert.Equal(cObjs[cIdx], ex.CorruptedLabel);
            Assert.NotEqual(idx, cIdx);
            Assert.Equal(cIdx.ToString(), ex.Metadata["corrupted_answer_index"]);
            Assert.Equal(string.Join(",", cObjs), ex.Metadata["corrupted_objects"]);
        }
    }

    [Fact]
    public void TinyVariant_UsesGivenBoxCountAndVocabularies()
    {
        string[] objects = ["cat", "dog", "cup", "pen"];
        string[] labels = ["A", "B", "C"];
        var g = new EntityTrackingGenerator("et-tiny", new EntityTrackingOptions(3, objects, labels));
        var data = g.Generate(40, 1, PromptTemplate.Short);
        foreach (var ex in data)
        {
            var (objs, boxes, q) = Parse(ex.Clean);
            Assert.Equal(3, objs.Length);
            Assert.All(objs, o => Assert.Contains(o, objects));
            Assert.All(boxes, b => Assert.Contains(b, labels));
            Assert.Equal(objs[Array.IndexOf(boxes, q)], ex.Label);
        }
    }

    [Fact]
    public void VocabularySmallerThanBoxCountIsRejected()
    {
        var g = new EntityTrackingGenerator("et", new EntityTrackingOptions(5, ["a", "b", "c"], null));
        var ex = Assert.Throws<ArgumentException>(() => g.Generate(1, 1, PromptTemplate.Short));
        Assert.Contains("Objects", ex.Message);
    }
}
