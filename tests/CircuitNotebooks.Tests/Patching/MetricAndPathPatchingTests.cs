using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using CircuitNotebooks.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Patching;

public class MetricTests
{
    // logits [2, 3, 4]; row 0 right-padded (length 2), row 1 left-padded (length 2, last real token at 2).
    private static readonly float[] Raw = Enumerable.Range(0, 24).Select(i => (float)Math.Sin(i * 1.3) * 3).ToArray();
    private static Tensor Logits => tensor(Raw, [2, 3, 4]);
    private static Tensor Mask => tensor(new long[] { 1, 1, 0, 0, 1, 1 }, [2, 3]); // fresh: a static tensor would die with the first test's scope
    private static double L(int b, int p, int v) => Raw[b * 12 + p * 4 + v];
    private static double[] Softmax(int b, int p)
    {
        var e = Enumerable.Range(0, 4).Select(v => Math.Exp(L(b, p, v))).ToArray();
        return e.Select(x => x / e.Sum()).ToArray();
    }

    [Fact]
    public void MetricsReadTheLastRealTokenAndMatchClosedForms()
    {
        using var scope = NewDisposeScope();
        int[] pos = [1, 2];
        long[] correct = [2, 0], wrong = [3, 1];
        double Mean(Func<int, double> f) => (f(0) + f(1)) / 2;
        Assert.Equal(Mean(b => L(b, pos[b], (int)correct[b]) - L(b, pos[b], (int)wrong[b])),
            Metric.LogitDiff(correct, wrong, Mask).Evaluate(Logits), 5);
        Assert.Equal(Mean(b => Softmax(b, pos[b])[correct[b]]), Metric.Probability(correct, Mask).Evaluate(Logits), 5);
        Assert.Equal(Mean(b => Softmax(b, pos[b])[correct[b]] - Softmax(b, pos[b])[wrong[b]]),
            Metric.ProbabilityDiff(correct, wrong, Mask).Evaluate(Logits), 5);
        Assert.Equal(Mean(b => -Math.Log(Softmax(b, pos[b])[correct[b]])), Metric.CrossEntropy(correct, Mask).Evaluate(Logits), 5);
        double Acc(int b) => Enumerable.Range(0, 4).MaxBy(v => L(b, pos[b], v)) == correct[b] ? 1 : 0;
        Assert.Equal(Mean(Acc), Metric.Accuracy(correct, Mask).Evaluate(Logits), 6);
        // KL(clean ‖ current): zero against itself; against the logits shifted by one position's values, closed form.
        var kl = Metric.KlToClean(Logits, Mask);
        Assert.Equal(0, kl.Evaluate(Logits), 6);
        var other = Logits.flip(2);
        double Kl(int b)
        {
            var pc = Softmax(b, pos[b]);
            var e = Enumerable.Range(0, 4).Select(v => Math.Exp(L(b, pos[b], 3 - v))).ToArray();
            return Enumerable.Range(0, 4).Sum(v => pc[v] * (Math.Log(pc[v]) - Math.Log(e[v] / e.Sum())));
        }
        Assert.Equal(Mean(Kl), kl.Evaluate(other), 5);
        var rel = Metric.RelativeProbabilityChange(correct, Logits, Mask);
        Assert.Equal(0, rel.Evaluate(Logits), 6);
        Assert.Equal(Mean(b =>
        {
            var pc = Softmax(b, pos[b])[correct[b]];
            var e = Enumerable.Range(0, 4).Select(v => Math.Exp(L(b, pos[b], 3 - v))).ToArray();
            return (e[correct[b]] / e.Sum() - pc) / pc;
        }), rel.Evaluate(other), 5);
        // Without a mask the answer position is the last one.
        Assert.Equal(Mean(b => L(b, 2, (int)correct[b]) - L(b, 2, (int)wrong[b])), Metric.LogitDiff(correct, wrong).Evaluate(Logits), 5);
        Assert.Throws<ArgumentException>(() => Metric.LogitDiff([1], [2]).Evaluate(Logits));
    }

    [Fact]
    public void ARowSliceOfAMetricIsThatRowsClosedForm()
    {
        // Row 1 alone (left-padded, answer at position 2): the sliced metrics see only its logits and mask.
        using var scope = NewDisposeScope();
        long[] correct = [2, 0], wrong = [3, 1];
        var row1 = Logits[1..2];
        Assert.Equal(L(1, 2, 0) - L(1, 2, 1), Metric.LogitDiff(correct, wrong, Mask).Rows(1, 1).Evaluate(row1), 5);
        Assert.Equal(-Math.Log(Softmax(1, 2)[0]), Metric.CrossEntropy(correct, Mask).Rows(1, 1).Evaluate(row1), 5);
        // KL to clean closes over both rows' clean distributions: the slice must compare row 1 with row 1's.
        var kl = Metric.KlToClean(Logits, Mask).Rows(1, 1);
        Assert.Equal(0, kl.Evaluate(row1), 6);
        // Gradients reach the slice's own logits only at its answer position: d(logit diff)/d logits = +1 / −1.
        var x = row1.detach().requires_grad_(true);
        Metric.LogitDiff(correct, wrong, Mask).Rows(1, 1).Mean(x).backward();
        var grad = x.grad!.to_type(ScalarType.Float64);
        Assert.Equal(1, grad[0, 2, 0].item<double>(), 6);
        Assert.Equal(-1, grad[0, 2, 1].item<double>(), 6);
        Assert.Equal(0, grad.abs().sum().item<double>() - 2, 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => Metric.LogitDiff(correct, wrong, Mask).Rows(1, 2));
        Assert.Throws<ArgumentException>(() => Metric.LogitDiff(correct, wrong, Mask).Rows(0, 1).Evaluate(Logits));
    }
}

public class PathPatchingTests
{
    private static (Tensor Clean, Tensor Cf, Metric Metric) Data()
    {
        var gen = new Generator(23);
        var clean = randint(0, 40, [2, 5], dtype: ScalarType.Int64, generator: gen);
        var cf = randint(0, 40, [2, 5], dtype: ScalarType.Int64, generator: gen);
        return (clean, cf, Metric.LogitDiff([1, 2], [3, 4]));
    }

    /// <summary>With every other component frozen, path patching is edge patching of exactly the sender → receiver edges.</summary>
    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void PathPatchingEqualsEdgePatchingOfTheSenderReceiverEdges(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var (clean, cf, metric) = Data();
        Sender[] senders = [new(0, 1), new(0, 3)];
        Receiver[] receivers = [new(1, 2, ReceiverInput.Q), new(1, 0, ReceiverInput.V), new(1, 2, ReceiverInput.K), Receiver.Logits()];
        double path = PathPatching.Run(model, clean, cf, senders, receivers, metric);

        var g = CircuitGraph.FromConfig(model.Config);
        var patch = new bool[g.ForwardCount * g.BackwardCount];
        foreach (var s in senders)
        {
            int u = g.HeadIndex(s.Layer, s.Head);
            patch[g.EdgeIndex(u, g.HeadInputIndex(1, 2, (QkvInput)0))] = true;
            patch[g.EdgeIndex(u, g.HeadInputIndex(1, 0, (QkvInput)2))] = true;
            patch[g.EdgeIndex(u, g.HeadInputIndex(1, 2, (QkvInput)1))] = true;
            patch[g.EdgeIndex(u, g.LogitsInput)] = true;
        }
        double edge = ExactEdgePatching.PatchEdges(model, new AttributionBatch(clean, cf, null, metric), patch);
        using (no_grad())
        {
            double cleanM = metric.Evaluate(model.Forward(clean));
            Assert.True(Math.Abs(path - cleanM) > 1e-3, "the patch should matter");
        }
        Assert.True(Math.Abs(path - edge) < 1e-4 * (1 + Math.Abs(edge)), $"path {path} vs edge {edge}");
        Assert.False(model.Options.UseSplitQkvInput);
    }

    [Fact]
    public void SenderSweepBatchedEqualsOneByOneAndPositionsAreRespected()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel("llama");
        var (clean, cf, metric) = Data();
        Receiver[] receivers = [new(1, 1, ReceiverInput.V), Receiver.Logits()];
        var sweep = PathPatching.SenderSweep(model, clean, cf, receivers, metric, options: new PathPatchingOptions { CopiesPerForward = 3 });
        for (int l = 0; l < 2; l++)
        for (int h = 0; h < 4; h++)
        {
            double one = PathPatching.Run(model, clean, cf, [new Sender(l, h)], receivers, metric, options: new PathPatchingOptions { CopiesPerForward = 1 });
            Assert.True(Math.Abs(one - sweep[l, h]) < 1e-5 * (1 + Math.Abs(one)), $"L{l}H{h}: {one} vs {sweep[l, h]}");
        }
        // Direct path to the logits read at the last position: only the sender's last position matters.
        double cleanM;
        using (no_grad()) cleanM = metric.Evaluate(model.Forward(clean));
        Receiver[] logits = [Receiver.Logits()];
        double early = PathPatching.Run(model, clean, cf, [new Sender(1, 2, Position: 2)], logits, metric);
        double last = PathPatching.Run(model, clean, cf, [new Sender(1, 2, Position: 4)], logits, metric);
        double all = PathPatching.Run(model, clean, cf, [new Sender(1, 2)], logits, metric);
        Assert.Equal(cleanM, early, 5);
        Assert.Equal(all, last, 5);
        Assert.True(Math.Abs(all - cleanM) > 1e-3);
    }
}
