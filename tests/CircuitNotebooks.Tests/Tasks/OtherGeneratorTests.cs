using System.Text.RegularExpressions;
using CircuitNotebooks.Tasks;
using Xunit;

namespace CircuitNotebooks.Tests.Tasks;

public class OtherGeneratorTests
{
    private static long[] Numbers(string s) =>
        Regex.Matches(s, @"\d+").Select(m => long.Parse(m.Value)).ToArray();

    [Theory]
    [InlineData("arith-seq")]
    [InlineData("geo-seq")]
    [InlineData("sequence")]
    public void Sequences_LabelIsClosedFormNextTermAndCorruptionHitsOneOfLastTwoTerms(string name)
    {
        var data = TaskRegistry.Default.Get(name).Generate(600, 5, PromptTemplate.Short);
        var seenIndex = new HashSet<int>();
        var kinds = new HashSet<string>();
        foreach (var ex in data)
        {
            Assert.Matches(@"^\d+(, \d+)+,$", ex.Clean);
            var t = Numbers(ex.Clean);
            int n = t.Length;
            Assert.Equal(4, n);
            long label;
            if (t[1] - t[0] == t[2] - t[1])
            {
                long d = t[1] - t[0];
                for (int k = 0; k < n; k++) Assert.Equal(t[0] + k * d, t[k]); // a_k = a_0 + k d
                label = t[0] + n * d;
                kinds.Add("arith");
            }
            else
            {
                Assert.Equal(0, t[1] % t[0]);
                long r = t[1] / t[0];
                for (int k = 0; k < n; k++) Assert.Equal(t[0] * (long)Math.Pow(r, k), t[k]); // a_k = a_0 r^k
                label = t[0] * (long)Math.Pow(r, n);
                kinds.Add("geo");
            }
            Assert.Equal(label.ToString(), ex.Label);
            Assert.Null(ex.CorruptedLabel);

            var c = Numbers(ex.Corrupted);
            Assert.Equal(n, c.Length);
            var diff = Enumerable.Range(0, n).Where(i => c[i] != t[i]).ToArray();
            Assert.Single(diff);
            Assert.Contains(diff[0], new[] { n - 2, n - 1 });
            Assert.InRange(c[diff[0]] - t[diff[0]], 1, 100);
            seenIndex.Add(diff[0]);
        }
        Assert.Equal(2, seenIndex.Count); // both of the last two terms get corrupted somewhere
        Assert.Equal(name == "sequence" ? 2 : 1, kinds.Count);
    }

    private static int NaiveLcm(int a, int b)
    {
        for (int m = Math.Max(a, b); ; m++)
            if (m % a == 0 && m % b == 0) return m;
    }

    private static int NaiveGcd(int a, int b)
    {
        for (int d = Math.Min(a, b); d > 1; d--)
            if (a % d == 0 && b % d == 0) return d;
        return 1;
    }

    [Theory]
    [InlineData(LcmPairKind.Multiple, 1)]
    [InlineData(LcmPairKind.Coprime, 2)]
    [InlineData(LcmPairKind.General, 0)]
    public void Lcm_AnswersMatchNaiveLoopAndCorruptedSwapsFinalPairForSameKind(LcmPairKind kind, int shots)
    {
        var g = new LcmGenerator("lcm", new LcmOptions(Shots: shots, Kinds: [kind]));
        var shot = new Regex(@"LCM\((\d+), (\d+)\) = (\d+), ");
        var final = new Regex(@"LCM\((\d+), (\d+)\) =$");
        foreach (var ex in g.Generate(400, 9, PromptTemplate.Paper))
        {
            Assert.StartsWith(PromptTemplate.Paper.LcmPrefix!, ex.Clean);
            var shotsFound = shot.Matches(ex.Clean);
            Assert.Equal(shots, shotsFound.Count);
            foreach (Match s in shotsFound)
            {
                int sa = int.Parse(s.Groups[1].Value), sb = int.Parse(s.Groups[2].Value);
                Assert.Equal(NaiveLcm(sa, sb), int.Parse(s.Groups[3].Value));
                AssertKind(kind, sa, sb);
            }
            var f = final.Match(ex.Clean);
            var fc = final.Match(ex.Corrupted);
            Assert.True(f.Success && fc.Success);
            int a = int.Parse(f.Groups[1].Value), b = int.Parse(f.Groups[2].Value);
            int a2 = int.Parse(fc.Groups[1].Value), b2 = int.Parse(fc.Groups[2].Value);
            Assert.Equal(NaiveLcm(a, b).ToString(), ex.Label);
            Assert.Equal(NaiveLcm(a2, b2).ToString(), ex.CorruptedLabel);
            Assert.NotEqual(ex.Label, ex.CorruptedLabel);
            AssertKind(kind, a, b);
            AssertKind(kind, a2, b2);
            // Everything before the final pair is untouched.
            Assert.Equal(ex.Clean[..f.Index], ex.Corrupted[..fc.Index]);
        }
    }

    private static void AssertKind(LcmPairKind kind, int a, int b)
    {
        Assert.True(a < b, $"{a} < {b}");
        if (kind == LcmPairKind.Multiple) Assert.Equal(0, b % a);
        if (kind == LcmPairKind.Coprime) Assert.Equal(1, NaiveGcd(a, b));
    }

    [Fact]
    public void Lcm_PaperExampleShapeIsProduced()
    {
        var ex = new LcmGenerator().Generate(1, 1, PromptTemplate.Short)[0];
        Assert.Matches(@"^LCM\(\d+, \d+\) = \d+, LCM\(\d+, \d+\) =$", ex.Clean);
    }

    [Fact]
    public void Function_ShownValuesAndLabelFollowTheLineAndCorruptedChangesOnlyIntercept()
    {
        var re = new Regex(@"^y=(\d+)x\+(\d+)\. Given x=([\d,]+), y=([\d,]+),$");
        foreach (var ex in new FunctionEvalGenerator().Generate(800, 4, PromptTemplate.Short))
        {
            var m = re.Match(ex.Clean);
            var mc = re.Match(ex.Corrupted);
            Assert.True(m.Success && mc.Success, ex.ToString());
            int slope = int.Parse(m.Groups[1].Value), c = int.Parse(m.Groups[2].Value);
            var xs = m.Groups[3].Value.Split(',').Select(int.Parse).ToArray();
            var ys = m.Groups[4].Value.Split(',').Select(int.Parse).ToArray();
            Assert.Equal(xs.Length - 1, ys.Length);
            for (int i = 0; i < ys.Length; i++) Assert.Equal(slope * xs[i] + c, ys[i]);
            Assert.Equal((slope * xs[^1] + c).ToString(), ex.Label);

            Assert.Equal(slope, int.Parse(mc.Groups[1].Value));
            int c2 = int.Parse(mc.Groups[2].Value);
            Assert.NotEqual(c, c2);
            Assert.Equal(m.Groups[3].Value, mc.Groups[3].Value);
            var ys2 = mc.Groups[4].Value.Split(',').Select(int.Parse).ToArray();
            for (int i = 0; i < ys2.Length; i++) Assert.Equal(slope * xs[i] + c2, ys2[i]);
            Assert.Equal((slope * xs[^1] + c2).ToString(), ex.CorruptedLabel);
        }
    }

    private static readonly Regex Composite = new(@"^\((\d+) ([+-]) (\d+)\) ([*/]) (\d+) =$");

    private static int Outer(int v, string op, int z) =>
        op == "*" ? v * z : (v % z == 0 ? v / z : throw new Xunit.Sdk.XunitException($"{v}/{z} inexact"));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Composite_LabelsRecomputeCorruptedChangesOnlyZ_AndSubTasksAlign(bool withDivision)
    {
        var opts = new CompositeOptions(OuterOps: withDivision ? ['*', '/'] : null);
        var full = new CompositeGenerator("composite", CompositePart.Full, opts).Generate(500, 21, PromptTemplate.Short);
        var bracket = new CompositeGenerator("composite-bracket", CompositePart.Bracket, opts).Generate(500, 21, PromptTemplate.Short);
        var outer = new CompositeGenerator("composite-outer", CompositePart.Outer, opts).Generate(500, 21, PromptTemplate.Short);
        var outerOps = new HashSet<string>();
        for (int i = 0; i < full.Count; i++)
        {
            var m = Composite.Match(full[i].Clean);
            var mc = Composite.Match(full[i].Corrupted);
            Assert.True(m.Success && mc.Success, full[i].ToString());
            int x = int.Parse(m.Groups[1].Value), y = int.Parse(m.Groups[3].Value), z = int.Parse(m.Groups[5].Value);
            string op = m.Groups[2].Value, o = m.Groups[4].Value;
            outerOps.Add(o);
            int v = op == "+" ? x + y : x - y;
            Assert.True(v > 0);
            Assert.Equal(Outer(v, o, z).ToString(), full[i].Label);
            // Only z differs.
            for (int g = 1; g <= 4; g++) Assert.Equal(m.Groups[g].Value, mc.Groups[g].Value);
            int z2 = int.Parse(mc.Groups[5].Value);
            Assert.NotEqual(z, z2);
            Assert.Equal(Outer(v, o, z2).ToString(), full[i].CorruptedLabel);

            Assert.Equal($"{x} {op} {y} =", bracket[i].Clean);
            Assert.Equal($"{x} {(op == "+" ? "-" : "+")} {y} =", bracket[i].Corrupted);
            Assert.Equal(v.ToString(), bracket[i].Label);
            Assert.Equal((op == "+" ? x - y : x + y).ToString(), bracket[i].CorruptedLabel);

            Assert.Equal($"{v} {o} {z} =", outer[i].Clean);
            Assert.Equal($"{v} {o} {z2} =", outer[i].Corrupted);
            Assert.Equal(full[i].Label, outer[i].Label);
            Assert.Equal(full[i].CorruptedLabel, outer[i].CorruptedLabel);
        }
        Assert.Equal(withDivision ? 2 : 1, outerOps.Count);
    }

    [Fact]
    public void Registry_HasAllTaskNamesAndUnknownNameListsThem()
    {
        var r = TaskRegistry.Default;
        string[] expected = ["addsub100", "addsub200", "addsub300", "addsub400", "addsub500", "muldiv", "arith-seq",
            "geo-seq", "lcm", "function", "composite", "composite-bracket", "composite-outer", "entity-tracking"];
        foreach (var n in expected)
        {
            Assert.True(r.Contains(n), n);
            Assert.Equal(n, r.Get(n).Name);
        }
        var ex = Assert.Throws<KeyNotFoundException>(() => r.Get("addsub999"));
        Assert.Contains("addsub999", ex.Message);
        foreach (var n in expected) Assert.Contains(n, ex.Message);
    }

    [Fact]
    public void DefaultOptionsSupplyThePaperDatasetSizes()
    {
        foreach (var (name, size) in TaskRegistry.PaperSizes)
        {
            var data = TaskRegistry.Default.Get(name).Generate(size, DatasetSplit.PaperSeed, PromptTemplate.Paper);
            Assert.Equal(size, data.Count);
            if (name is "geo-seq" or "sequence") continue; // geometric spaces are small: repeats allowed there
            // Composite sub-tasks are distinct on the full expression they derive from (to stay aligned with it).
            var keys = name.StartsWith("composite-") ? data.Select(e => e.Metadata["expression"]) : data.Select(e => e.Clean);
            Assert.True(size == keys.Distinct().Count(), $"{name}: repeated prompts");
        }
    }

    [Fact]
    public void Registry_AddSubNameSetsTheRange()
    {
        var data = TaskRegistry.Default.Get("addsub300").Generate(2000, 1, PromptTemplate.Short);
        long max = data.SelectMany(e => Numbers(e.Clean)).Max();
        Assert.InRange(max, 101, 300);
    }
}
