using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CircuitNotebooks.Interactive.Charts;
using CircuitNotebooks.Interactive.Html;
using Xunit;

namespace CircuitNotebooks.Interactive.Tests;

public class ChartTests
{
    private static JsonObject Figure(Chart chart) => JsonNode.Parse(chart.ToFigureJson())!.AsObject();

    [Fact]
    public void DivergingHeatmapIsCentredOnZeroAtMaxAbs()
    {
        var v = new double[,] { { 0.2, -1.5, double.NaN }, { 0.7, 0.0, 1.1 } };
        var fig = Figure(Heatmaps.Diverging(v, ["L0", "L1"], ["a", "b", "c"], "t", "x", "y"));
        var trace = fig["data"]![0]!;
        // independent: the largest |finite| value is 1.5
        Assert.Equal(-1.5, trace["zmin"]!.GetValue<double>());
        Assert.Equal(1.5, trace["zmax"]!.GetValue<double>());
        Assert.Equal(0.0, trace["zmid"]!.GetValue<double>());
        Assert.Null(trace["z"]![0]![2]); // NaN → blank cell
        Assert.Equal(-1.5, trace["z"]![0]![1]!.GetValue<double>());
        Assert.Equal(["a", "b", "c"], trace["x"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public void HeatmapRejectsLabelCountsThatDoNotMatchTheShape()
    {
        var e = Assert.Throws<ArgumentException>(() => Heatmaps.Diverging(new double[2, 3], ["L0"], ["a", "b", "c"], "t", "x", "y"));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Throws<ArgumentException>(() => AttentionPatterns.Pattern(new double[3, 3], ["a", "b"]));
    }

    [Fact]
    public void RepeatedTokensStayDistinctCategories()
    {
        var labels = Labels.Tokens([" John", " gave", " John"]);
        Assert.Equal(3, labels.Distinct().Count());
        Assert.Equal("0:·John", labels[0]);
        Assert.Equal(["a", "b", "a (2)", "a (3)"], Labels.Unique(["a", "b", "a", "a"]));
    }

    [Fact]
    public void CircuitGraphEncodesScoreSignAndInputInEdgeShapes()
    {
        var (nodes, edges) = SampleCharts.Graph();
        var shapes = Figure(CircuitGraphChart.Create(nodes, edges))["layout"]!["shapes"]!.AsArray();
        Assert.Equal(edges.Length, shapes.Count);
        var maxAbs = edges.Max(e => Math.Abs(e.Score)); // 1.0
        foreach (var edge in edges)
        {
            var (from, to) = (nodes.Single(n => n.Name == edge.From), nodes.Single(n => n.Name == edge.To));
            var shape = shapes.Single(s => s!["x0"]!.GetValue<double>() == from.Position && s["y0"]!.GetValue<double>() == from.Layer
                                           && s["x1"]!.GetValue<double>() == to.Position && s["y1"]!.GetValue<double>() == to.Layer)!;
            var expectedWidth = 0.75 + (6.0 - 0.75) * Math.Abs(edge.Score) / maxAbs;
            Assert.Equal(expectedWidth, shape["line"]!["width"]!.GetValue<double>(), 12);
            Assert.Equal(edge.Score < 0 ? "#b2182b" : "#2166ac", shape["line"]!["color"]!.GetValue<string>());
            var dash = edge.Input switch { EdgeInput.Q => "dash", EdgeInput.K => "dot", EdgeInput.V => "dashdot", _ => "solid" };
            Assert.Equal(dash, shape["line"]!["dash"]!.GetValue<string>());
        }
    }

    [Fact]
    public void CircuitGraphRejectsEdgesToUnknownNodes()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            CircuitGraphChart.Create([new GraphNode("a", 0, 0)], [new GraphEdge("a", "b", 1)]));
        Assert.Contains("'b'", e.Message);
    }

    [Fact]
    public void LineCurvesTurnNaNIntoGapsAndCheckLengths()
    {
        var fig = Figure(LineCurves.Create([1, 2, 3], [new("s", [1.0, double.NaN, 3.0])], "t", "x", "y"));
        Assert.Null(fig["data"]![0]!["y"]![1]);
        Assert.Throws<ArgumentException>(() => LineCurves.Create([1, 2], [new("s", [1.0])], "t", "x", "y"));
    }

    [Fact]
    public void ReportEmbedsPlotlyOnceAndReferencesNoNetworkScript()
    {
        var report = new HtmlReport("charts");
        foreach (var (name, chart) in SampleCharts.All()) report.Section(name).Chart(chart);
        var html = report.ToHtml();

        // independent copy of the bundle, straight from the file the build embeds (Plotly.Blazor's static asset)
        var bundle = File.ReadAllText(PlotlyBundlePath());
        Assert.StartsWith("/**\n* plotly.js v" + PlotlyJs.Version, bundle.Replace("\r\n", "\n"));
        Assert.Equal(1, TestPaths.Count(html, bundle.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase)));
        Assert.Equal(1, TestPaths.Count(html, PlotlyJs.EmbedMarker + "="));
        Assert.DoesNotMatch(new Regex("<script[^>]*\\ssrc\\s*=", RegexOptions.IgnoreCase), html);
        Assert.Equal(SampleCharts.All().Count, TestPaths.Count(html, "class=\"cn-chart\""));
        Assert.Equal(SampleCharts.All().Count, TestPaths.Count(html, "Plotly.newPlot(el, fig.data"));
    }

    private static string PlotlyBundlePath()
    {
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                    ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(cache, "plotly.blazor", "7.2.0", "staticwebassets", $"plotly-{PlotlyJs.Version}.min.js");
    }

    [Fact]
    public void ChartJsonCannotEndItsScriptElement()
    {
        var chart = Bars.Grouped(["</script><script>alert(1)</script>"], [new("s", [1.0])], "t</script>", "y");
        var html = chart.ToHtml("id1");
        Assert.Equal(1, TestPaths.Count(html, "</script>")); // only the element's own end tag
        var figure = JsonNode.Parse(chart.ToFigureJson())!;
        Assert.Equal("t</script>", figure["layout"]!["title"]!["text"]!.GetValue<string>()); // same string once parsed
    }

    [Fact]
    public void BarErrorsAreCheckedAndDrawnAsErrorBars()
    {
        var fig = Figure(Bars.Grouped(["a", "b"], [new("s", [1.0, 2.0], [0.5, 0.25])], "t", "y"));
        Assert.Equal([0.5, 0.25], fig["data"]![0]!["error_y"]!["array"]!.AsArray().Select(n => n!.GetValue<double>()));
        Assert.Throws<ArgumentException>(() => Bars.Grouped(["a", "b"], [new("s", [1.0, 2.0], [0.5])], "t", "y"));
    }

    [Fact]
    public void ReportWithoutChartsCarriesNoPlotlyAndSavesAtomically()
    {
        var dir = TestPaths.NewDirectory("report");
        var path = new HtmlReport("tables").Table(new[] { new { a = 1, b = "x" } }).Preformatted("<raw>").Save(Path.Combine(dir, "r.html"));
        var html = File.ReadAllText(path);
        Assert.DoesNotContain(PlotlyJs.EmbedMarker, html);
        Assert.Contains("&lt;raw&gt;", html);
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(dir).Select(Path.GetFileName));
    }
}
