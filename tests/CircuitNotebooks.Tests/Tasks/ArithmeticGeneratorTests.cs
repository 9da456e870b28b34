using System.Text.RegularExpressions;
using CircuitNotebooks.Tasks;
using Xunit;

namespace CircuitNotebooks.Tests.Tasks;

public class ArithmeticGeneratorTests
{
    private const string Prefix = "Calculate the result of the following arithmetic expression and provide only the final answer: ";
    private static readonly Regex AddSub = new(@"^(\d+) ([+-]) (\d+) =$");
    private static readonly Regex MulDiv = new(@"^(\d+) ([*/]) (\d+) =$");

    private static string Body(string prompt, PromptTemplate t)
    {
        if (t == PromptTemplate.Paper)
        {
            Assert.StartsWith(Prefix, prompt);
            return prompt[Prefix.Length..];
        }
        return prompt;
    }

    private static int Eval(int a, string op, int b) => op switch
    {
        "+" => a + b, "-" => a - b, "*" => a * b,
        "/" => a % b == 0 ? a / b : throw new Xunit.Sdk.XunitException($"{a} / {b} is not exact"),
        _ => throw new Xunit.Sdk.XunitException("op " + op),
    };

    public static TheoryData<int, bool> AddSubCases => new() { { 100, true }, { 300, true }, { 500, false }, { 100, false } };

    [Theory]
    [MemberData(nameof(AddSubCases))]
    public void AddSub_LabelsRecomputeAndCorruptedFlipsOnlyTheOperator(int n, bool paper)
    {
        var t = paper ? PromptTemplate.Paper : PromptTemplate.Short;
        var data = new AddSubGenerator(n).Generate(1000, 3, t);
        Assert.Equal(1000, data.Count);
        int adds = 0;
        foreach (var ex in data)
        {
            var m = AddSub.Match(Body(ex.Clean, t));
            Assert.True(m.Success, ex.Clean);
            int a = int.Parse(m.Groups[1].Value), b = int.Parse(m.Groups[3].Value);
            string op = m.Groups[2].Value;
            Assert.InRange(a, 0, n);
            Assert.InRange(b, 0, n);
            Assert.Equal((op == "+" ? a + b : a - b).ToString(), ex.Label);
            Assert.True(int.Parse(ex.Label) >= 0);
            if (op == "+") adds++;

            // Only the operator differs: same length, exactly one differing char, and it is the +/- sign.
            Assert.Equal(ex.Clean.Length, ex.Corrupted.Length);
            var diffs = Enumerable.Range(0, ex.Clean.Length).Where(i => ex.Clean[i] != ex.Corrupted[i]).ToArray();
            Assert.Single(diffs);
            Assert.Contains(ex.Clean[diffs[0]], "+-");
            Assert.Contains(ex.Corrupted[diffs[0]], "+-");
            var mc = AddSub.Match(Body(ex.Corrupted, t));
            Assert.Equal((op == "+" ? a - b : a + b).ToString(), ex.CorruptedLabel);
            Assert.True(int.Parse(ex.CorruptedLabel!) >= 0, "flipped result must be defined (non-negative)");
            Assert.True(mc.Success);
        }
        Assert.Equal(500, adds);
        Assert.Equal(data.Count, data.Select(e => e.Clean).Distinct().Count());
    }

    [Fact]
    public void AddSub_BoundSumKeepsBothAnswersWithinN()
    {
        var data = new AddSubGenerator("tiny", new AddSubOptions(MaxOperand: 20, BoundSum: true)).Generate(150, 1, PromptTemplate.Short);
        foreach (var ex in data)
        {
            Assert.InRange(int.Parse(ex.Label), 0, 20);
            Assert.InRange(int.Parse(ex.CorruptedLabel!), 0, 20);
        }
    }

    [Fact]
    public void AddSub_TooManyRequestedForTheRangeThrows()
    {
        // N = 3: pairs a ≥ b in 0..3 are 10, so at most 10 distinct additions exist.
        var ex = Assert.Throws<InvalidOperationException>(() =>
            new AddSubGenerator("small", new AddSubOptions(3)).Generate(30, 1, PromptTemplate.Short));
        Assert.Contains("distinct", ex.Message);
    }

    [Fact]
    public void MulDiv_LabelsRecomputeAndCorruptedChangesOnlyFirstOperandKeepingDivisionExact()
    {
        var t = PromptTemplate.Paper;
        var data = new MulDivGenerator().Generate(1000, 11, t);
        int divs = 0;
        foreach (var ex in data)
        {
            var m = MulDiv.Match(Body(ex.Clean, t));
            var mc = MulDiv.Match(Body(ex.Corrupted, t));
            Assert.True(m.Success && mc.Success, ex.ToString());
            int a = int.Parse(m.Groups[1].Value), b = int.Parse(m.Groups[3].Value);
            int a2 = int.Parse(mc.Groups[1].Value), b2 = int.Parse(mc.Groups[3].Value);
            string op = m.Groups[2].Value;
            if (op == "/") divs++;
            Assert.Equal(Eval(a, op, b).ToString(), ex.Label);
            Assert.Equal(op, mc.Groups[2].Value);
            Assert.Equal(b, b2);
            Assert.NotEqual(a, a2);
            Assert.Equal(a.ToString().Length, a2.ToString().Length);
            Assert.Equal(Eval(a2, op, b2).ToString(), ex.CorruptedLabel); // Eval throws if ÷ is not exact
        }
        Assert.Equal(500, divs);
    }

    [Fact]
    public void Generators_AreDeterministicBySeed()
    {
        foreach (var name in TaskRegistry.Default.Names)
        {
            var g = TaskRegistry.Default.Get(name);
            var a = g.Generate(120, 42, PromptTemplate.Paper);
            var b = TaskRegistry.Default.Get(name).Generate(120, 42, PromptTemplate.Paper);
            var c = g.Generate(120, 43, PromptTemplate.Paper);
            Assert.Equal(a, b);
            Assert.NotEqual(a, c);
        }
    }

    [Fact]
    public void ShortTemplateHasNoPrefixAndPaperTemplateHasIt()
    {
        var shortEx = new AddSubGenerator(100).Generate(5, 1, PromptTemplate.Short);
        var paperEx = new AddSubGenerator(100).Generate(5, 1, PromptTemplate.Paper);
        for (int i = 0; i < 5; i++)
        {
            Assert.Matches(AddSub, shortEx[i].Clean);
            Assert.Equal(Prefix + shortEx[i].Clean, paperEx[i].Clean);
        }
    }
}
