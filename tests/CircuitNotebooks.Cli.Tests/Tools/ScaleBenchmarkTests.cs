using CircuitNotebooks.Circuits;
using CircuitNotebooks.Cli.Tools;
using Xunit;
using Xunit.Abstractions;

namespace CircuitNotebooks.Cli.Tests.Tools;

[Collection(SerialCollection.Name)]
public class ScaleBenchmarkTests(ITestOutputHelper output)
{
    [Fact]
    public void SpreadIsTheMedianAndRangeOfTheRounds()
    {
        var s = Spread.Of([3, 1, 2, 10]);
        Assert.Equal((2.5, 1.0, 10.0, 4), (s.Median, s.Min, s.Max, s.Rounds));
        var r = Spread.Ratio([2, 9, 4], [1, 3, 4]); // 2, 3, 1 round by round
        Assert.Equal((2.0, 1.0, 3.0), (r.Median, r.Min, r.Max));
        Assert.Equal("2.00 [1.00–3.00]", r.Format());
    }

    [Fact]
    public void CostModelRecoversExactForwardAndContractionTerms()
    {
        (double, double, double)[] pts = [(1e9, 3e7, 0), (4e9, 4e8, 0), (1.1e10, 3.8e9, 0)];
        var exact = pts.Select(p => (p.Item1, p.Item2, 2e-10 * p.Item1 + 5e-10 * p.Item2)).ToList();
        var fit = CostModel.Fit(exact);
        Assert.Equal(2e-10, fit.A, 15);
        Assert.Equal(5e-10, fit.B, 15);
        Assert.Throws<ArgumentException>(() => CostModel.Fit([(1.0, 1.0, 1.0)]));
    }

    [Fact]
    public void TheExtrapolationUsesLlama3sClosedFormShape()
    {
        // Three synthetic shapes whose seconds per example are exactly 1e-10 per forward FLOP + 3e-10 per edge·d_model·token:
        // the extrapolation must apply that to Llama-3-8B, whose graph (32 layers, 32 query heads) has n_fwd = 1 + 32·33
        // and n_bwd = 32·(3·32 + 1) + 1.
        var rows = new[] { Row(ScaleShape.Pythia70M, 3_580), Row(ScaleShape.Pythia160M, 32_347), Row(ScaleShape.Pythia410M, 231_493) };
        var x = ScaleReport.Extrapolate(rows);
        Assert.Equal(1 + 32 * 33, x.NFwd);
        Assert.Equal(32 * (3 * 32 + 1) + 1, x.NBwd);
        Assert.Equal(8_030_261_248, x.Parameters); // Llama-3-8B's published count
        var llama = ScaleShape.Llama3_8B;
        double expected = 1e-10 * ScaleShape.ForwardFlopsPerToken(llama, 16) * 16 + 3e-10 * (double)x.Edges * 4096 * 16;
        Assert.Equal(1, x.CpuSecondsPerExample / expected, 9);
        Assert.Equal(x.CpuSecondsPerExample * x.CpuGflops / ScaleExtrapolation.AssumedGpuGflops, x.GpuSecondsPerExample, 12);
        Assert.Equal((double)x.NFwd * 4096 * 2, x.DeltaBytesPerToken);
    }

    private static ScaleRow Row(ScaleShape shape, long edges)
    {
        var cfg = shape.ToConfig();
        double seconds = 1e-10 * ScaleShape.ForwardFlopsPerToken(cfg, 16) * 16 + 3e-10 * (double)edges * cfg.DModel * 16;
        var one = Spread.Of([1.0]);
        return new ScaleRow(shape.Name, cfg, 1, shape.Layers, shape.DModel, edges, 1, 1, 1, 16, ScaleShape.ForwardFlopsPerToken(cfg, 16),
            Spread.Of([0.1]), one, Spread.Of([seconds]), one, one, one, 1000, [(16, 2e6, 1e6), (32, 4e6, 2e6)]);
    }

    [Fact]
    public void ScaleRunOnTwoTinyShapesWritesTheTableAndBothCharts()
    {
        var shapes = new[] { new ScaleShape("tiny-a", 2, 32, 4, 64, 97), new ScaleShape("tiny-b", 3, 64, 4, 128, 97) };
        var rows = ScaleBenchmark.Run(new ScaleOptions { Shapes = shapes, Rows = 1, Positions = 6, Rounds = 1, MemoryInChildProcess = false });
        Assert.Equal(2, rows.Count);
        foreach (var (r, s) in rows.Zip(shapes))
        {
            // Parallel attention + MLP: every q/k/v input and the MLP of layer l read the input and the 5 nodes of each earlier layer.
            long expected = Enumerable.Range(0, s.Layers).Sum(l => (3L * s.Heads + 1) * (1 + l * (s.Heads + 1))) + 1 + s.Layers * (s.Heads + 1);
            Assert.Equal(expected, r.Edges);
            Assert.Equal((long)(1 + s.Layers * (s.Heads + 1)) * s.DModel * 4, r.DeltaBytesPerToken);
            Assert.True(r.EapIgSeconds.Median > 0 && r.ForwardSeconds.Median > 0);
            Assert.Equal([6, 12], r.Memory.Select(m => m.Tokens));
        }
        var x = ScaleReport.Extrapolate(rows);
        var csv = ScaleReport.ToTable(rows, x).ToCsv().TrimEnd().Split('\n');
        Assert.Equal(1 + 2 + 2, csv.Length); // header, two measured shapes, CPU and GPU extrapolation
        Assert.Contains("extrapolated", csv[3]);
        var html = ScaleReport.ToHtml(rows, x, "test").ToHtml();
        Assert.Equal(2, CountOf(html, "Plotly.newPlot(el, fig.data"));
        Assert.Equal(4, CountOf(html, "\"type\":\"log\"")); // both axes of both charts
        Assert.Contains("EXTRAPOLATION", html);
        output.WriteLine(string.Join("\n", csv));
    }

    private static int CountOf(string s, string what) => (s.Length - s.Replace(what, "").Length) / what.Length;

    [Fact]
    public void EdgeScoringPeakStaysUnderTwoDeltaBuffersAboveAPlainForwardBackward()
    {
        // The bench shape and batch, measured the bench's way: a child circuitnb process whose allocator returns freed
        // memory at once. Δ is computed here from the graph: n_fwd × d_model × tokens × 4 bytes.
        if (!OperatingSystem.IsLinux()) return;
        var cfg = ForwardBenchmark.DefaultConfig;
        var probe = MemoryProbe.RunIsolated(new MemoryProbeSpec(cfg, [8], 32, Steps: 5, Rounds: 1))!;
        double delta = (1 + cfg.NLayers * (cfg.NHeads + 1)) * (double)cfg.DModel * 8 * 32 * 4;
        Assert.Equal(CircuitGraph.FromConfig(cfg).ForwardCount, 1 + cfg.NLayers * (cfg.NHeads + 1));
        double scoring = probe.Scoring[0][0], fb = probe.ForwardBackward[0][0];
        output.WriteLine($"scoring {scoring / 1048576:F1} MiB, forward+backward {fb / 1048576:F1} MiB, Δ {delta / 1048576:F1} MiB");
        Assert.True(fb > delta, "the plain forward + backward must be measured");
        Assert.True(scoring <= 2 * delta + fb, $"scoring peak {scoring / 1048576:F1} MiB > 2Δ + forward/backward {(2 * delta + fb) / 1048576:F1} MiB");
    }
}
