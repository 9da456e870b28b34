using System.Text.RegularExpressions;
using CircuitNotebooks.Interactive.Charts;
using CircuitNotebooks.Interactive.Display;
using CircuitNotebooks.Interactive.Formatting;
using CircuitNotebooks.Interactive.Html;
using Deedle;
using Microsoft.DotNet.Interactive.Formatting;
using TorchSharp;
using Xunit;

namespace CircuitNotebooks.Interactive.Tests;

public class FormatterTests
{
    public FormatterTests() => NotebookKit.Register();

    [Fact]
    public void RegisterDiscoversTheBuiltInFormatters()
    {
        var types = NotebookKit.Register().Select(f => f.GetType()).ToHashSet();
        Assert.Contains(typeof(ChartFormatter), types);
        Assert.Contains(typeof(FrameFormatter), types);
        Assert.Contains(typeof(TensorFormatter), types);
        Assert.Contains(typeof(HtmlFragmentFormatter), types);
    }

    [Fact]
    public void ChartFormatsAsDivAndScriptWithPlotlyOncePerDocument()
    {
        var chart = Heatmaps.LayerByHead(new double[,] { { 1, -1 } });
        using var _ = PlotlyEmbedding.BeginDocument();
        var first = Formatter.ToDisplayString(chart, "text/html");
        var second = Formatter.ToDisplayString(chart, "text/html");
        Assert.Contains("class=\"cn-chart\"", first);
        Assert.Contains("Plotly.newPlot(", second);
        Assert.Equal(1, TestPaths.Count(first, PlotlyJs.EmbedMarker + "="));
        Assert.Equal(0, TestPaths.Count(second, PlotlyJs.EmbedMarker + "="));
        using (PlotlyEmbedding.BeginDocument())
            Assert.Equal(1, TestPaths.Count(Formatter.ToDisplayString(chart, "text/html"), PlotlyJs.EmbedMarker + "="));
    }

    [Fact]
    public void FrameFormatsAsBoundedTableWithExplicitRemainder()
    {
        var rows = Enumerable.Range(0, 60).Select(i => new { Step = i, Loss = 1.0 / (i + 1) }).ToArray();
        var frame = Frame.FromRecords(rows);
        var html = Formatter.ToDisplayString(frame, "text/html");
        var body = html[html.IndexOf("<tbody>", StringComparison.Ordinal)..html.IndexOf("</tbody>", StringComparison.Ordinal)];
        Assert.Equal(FrameFormatter.MaxRows, TestPaths.Count(body, "<tr>"));
        Assert.Contains("… 10 more rows", html);
        Assert.Contains("60 rows × 2 columns", html);
        // row 3: Step 3, Loss 1/4 printed with G6
        Assert.Contains("<th>3</th><td>3</td><td>0.25</td>", html);
    }

    [Fact]
    public void FrameMissingValuesRenderEmpty()
    {
        var s1 = new Series<int, double>([0, 1], [1.5, 2.5]);
        var s2 = new Series<int, double>([0], [7.0]);
        var frame = Frame.FromColumns(new[] { "a", "b" }.Zip([s1, s2]).ToDictionary(p => p.First, p => p.Second));
        var html = Formatter.ToDisplayString(frame, "text/html");
        Assert.Contains("<th>1</th><td>2.5</td><td></td>", html);
        Assert.DoesNotContain("more row", html);
    }

    [Fact]
    public void TensorFormatsShapeDtypeDeviceAndValues()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.arange(12, dtype: torch.float32).reshape(3, 4);
        var html = Formatter.ToDisplayString(t, "text/html");
        Assert.Contains("shape [3, 4]", html);
        Assert.Contains("Float32", html);
        Assert.Contains("cpu", html, StringComparison.OrdinalIgnoreCase);
        var cells = Regex.Matches(html, "<td>([^<]*)</td>").Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i.ToString()), cells);
        Assert.DoesNotContain("showing", html);
    }

    [Fact]
    public void LargeTensorPreviewIsBoundedAndSaysSo()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.arange(2 * 20 * 30, dtype: torch.float64).reshape(2, 20, 30);
        var html = TensorFormatter.ToHtml(t);
        var cells = Regex.Matches(html, "<td>(-?[0-9.E+-]+)</td>").Select(m => double.Parse(m.Groups[1].Value)).ToArray();
        // first matrix t[0], top-left 8x10 block: value = r*30 + c
        var expected = Enumerable.Range(0, 8).SelectMany(r => Enumerable.Range(0, 10).Select(c => (double)(r * 30 + c)));
        Assert.Equal(expected, cells);
        Assert.Contains("showing 80 of 1200 values", html);
        Assert.Contains("showing [0, :, :]", html);
    }

    [Fact]
    public void ConventionNamedTypeFormatterSourceAttributeIsHonoured()
    {
        // The engine's recipe: an attribute merely NAMED TypeFormatterSourceAttribute, no Formatting reference.
        var html = Formatter.ToDisplayString(new Conventional.EngineResult(42), "text/html");
        Assert.Equal("<b>engine result 42</b>", html);
    }

    [Fact]
    public void RegisteredFormatterWinsOverConventionSource()
    {
        NotebookKit.RegisterHtml<Conventional.Overridden>(v => $"<i>ours {v.Value}</i>");
        Assert.Equal("<i>ours 7</i>", Formatter.ToDisplayString(new Conventional.Overridden(7), "text/html"));
    }

    [Fact]
    public void HtmlFragmentIsWrittenVerbatim()
    {
        Assert.Equal("<p>x</p>", Formatter.ToDisplayString(new HtmlFragment("<p>x</p>"), "text/html"));
    }

    [Fact]
    public void ProgressKeepsOneDisplayThrottlesAndFlushesTheLastReport()
    {
        var sink = new RecordingSink();
        using (var progress = new DisplayProgress<int>(sink, v => $"step {v}", TimeSpan.FromHours(1)))
        {
            for (var i = 1; i <= 5; i++) progress.Report(i);
            Assert.Equal(["step 1"], sink.Shown); // the rest fall inside the throttle window
        }
        Assert.Equal(1, sink.Displays);
        Assert.Equal(["step 1", "step 5"], sink.Shown);
    }

    [Fact]
    public void ProgressWithoutThrottleUpdatesEveryReport()
    {
        var sink = new RecordingSink();
        var progress = new DisplayProgress<ProgressBar>(sink, b => b.ToString(), TimeSpan.Zero);
        progress.Report(new ProgressBar("train", 1, 4));
        progress.Report(new ProgressBar("train", 4, 4));
        Assert.Equal(1, sink.Displays);
        Assert.Equal(["train: 1/4 (25%)", "train: 4/4 (100%)"], sink.Shown.Select(s => s.Replace(" %", "%")));
    }

    private sealed class RecordingSink : IDisplaySink
    {
        public int Displays;
        public List<string> Shown { get; } = [];

        public IDisplayHandle Display(object value)
        {
            Displays++;
            Shown.Add((string)value);
            return new Handle(this);
        }

        private sealed class Handle(RecordingSink owner) : IDisplayHandle
        {
            public void Update(object value) => owner.Shown.Add((string)value);
        }
    }
}
