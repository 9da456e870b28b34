using System.Text.RegularExpressions;
using CircuitNotebooks.Interactive.Charts;
using CircuitNotebooks.Interactive.Display;
using CircuitNotebooks.Interactive.Formatting;
using CircuitNotebooks.Interactive.Html;
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
        Assert.Contains(typeof(TableFormatter), types);
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
    public void TableFormatsAsBoundedTableWithExplicitRemainder()
    {
        var rows = Enumerable.Range(0, 60).Select(i => new { Step = i, Loss = 1.0 / (i + 1) }).ToArray();
        var table = Table.FromRecords(rows);
        var html = Formatter.ToDisplayString(table, "text/html");
        var body = html[html.IndexOf("<tbody>", StringComparison.Ordinal)..html.IndexOf("</tbody>", StringComparison.Ordinal)];
        Assert.Equal(TableFormatter.MaxRows, TestPaths.Count(body, "<tr>"));
        Assert.Contains("… 10 more rows", html);
        Assert.Contains("60 rows × 2 columns", html);
        // row 3: Step 3, Loss 1/4
        Assert.Contains("<tr><td>3</td><td>0.25</td></tr>", html);
    }

    [Fact]
    public void TableCsvRoundTripsDoublesQuotesSeparatorsAndWritesAtomically()
    {
        var dir = TestPaths.NewDirectory("table");
        var table = new Table("name", "value", "flag").Add("a,b", 0.1 + 0.2, true).Add("say \"hi\"", double.NaN, false);
        var path = table.WriteCsv(Path.Combine(dir, "t.csv"));
        var lines = File.ReadAllLines(path);
        Assert.Equal(["name,value,flag", "\"a,b\",0.30000000000000004,true", "\"say \"\"hi\"\"\",NaN,false"], lines);
        Assert.Equal(0.1 + 0.2, double.Parse(lines[1].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(["t.csv"], Directory.GetFiles(dir).Select(Path.GetFileName));
        var e = Assert.Throws<ArgumentException>(() => table.Add(1, 2));
        Assert.Contains("2 cells but the table has 3 columns", e.Message);
        Assert.Equal([0.30000000000000004, double.NaN], table.Column<double>("value"));
        Assert.Throws<KeyNotFoundException>(() => table.Column<double>("nope"));
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
