using CircuitNotebooks.Interactive.Html;
using CircuitNotebooks.Cli.Notebooks;
using CircuitNotebooks.Interactive.Tests.Notebooks;
using Microsoft.Playwright;
using Xunit;
using Xunit.Abstractions;

namespace CircuitNotebooks.Interactive.Tests;

/// <summary>
/// Opens rendered pages in a real Chromium, offline, and checks that every chart actually drew. Needs
/// /usr/bin/chromium (installed by .ci/install-chromium.sh); it fails, not skips, without it.
/// </summary>
public class BrowserTests(ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task ReportChartsDrawOfflineWithoutConsoleErrors()
    {
        var dir = TestPaths.NewDirectory("browser-report");
        var report = new HtmlReport("CircuitNotebooks chart gallery");
        foreach (var (name, chart) in SampleCharts.All()) report.Section(name).Chart(chart, name);
        report.Section("table").Table(Table.FromRecords(Enumerable.Range(0, 55).Select(i => new { Step = i, Loss = 3.0 / (i + 1) })));
        var page = report.Save(Path.Combine(dir, "report.html"));
        await AssertChartsDraw(page, SampleCharts.All().Count, "report");
    }

    [Fact]
    public async Task RunnerNotebookPageChartsDrawOffline()
    {
        var dir = TestPaths.NewDirectory("browser-notebook");
        var nb = new NotebookBuilder()
            .Markdown("# Notebook page\nA heatmap and a circuit, run by the real kernel.")
            .Code(NotebookSources.Setup + "\nusing CircuitNotebooks.Interactive.Charts;")
            .Code("display(Heatmaps.LayerByHead(new double[,] { { 0.2, -0.4, 0.9 }, { -1, 0.1, 0.3 } }))")
            .Code("CircuitGraphChart.Create([new GraphNode(\"input\", -1, 0), new GraphNode(\"a0.h0\", 0, 0), new GraphNode(\"logits\", 1, 0)],\n" +
                  "  [new GraphEdge(\"input\", \"a0.h0\", 0.8, EdgeInput.Q), new GraphEdge(\"a0.h0\", \"logits\", -0.5)])")
            .Save(Path.Combine(dir, "page.ipynb"));
        var run = await ExecutedNotebook.RunFileAsync(nb, output);
        await AssertChartsDraw(run.Result.OutputHtmlPath!, 2, "notebook");
    }

    [Fact]
    public async Task ExecutedNotebookPageChartsDrawOffline()
    {
        // A real notebook (circuit discovery: heatmap, circuit drawing, curves) as the runner renders it.
        var nb = await Notebooks.ExecutedNotebook.RunAsync("03-eap-ig-circuit-discovery", output, "examples=8", "igSteps=2");
        var html = File.ReadAllText(nb.Result.OutputHtmlPath!);
        int charts = System.Text.RegularExpressions.Regex.Matches(html, "<div id=\"cn-chart-[0-9a-f]+\" class=\"cn-chart\">").Count;
        Assert.True(charts >= 3, $"expected the circuit, the budget curve and the head heatmap, found {charts} charts");
        await AssertChartsDraw(nb.Result.OutputHtmlPath!, charts, "notebook-03");
    }

    private async Task AssertChartsDraw(string pagePath, int expectedCharts, string screenshotName)
    {
        Assert.True(File.Exists(Chromium),
            $"{Chromium} is missing: the real-browser test needs Debian's chromium. Run .ci/install-chromium.sh (apt-get install chromium).");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { Offline = true, ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var blocked = new List<string>();
        await context.RouteAsync("**/*", async route =>
        {
            if (route.Request.Url.StartsWith("file:", StringComparison.Ordinal)) await route.ContinueAsync();
            else
            {
                lock (blocked) blocked.Add(route.Request.Url);
                await route.AbortAsync();
            }
        });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, msg) =>
        {
            if (msg.Type == "error") lock (errors) errors.Add("console: " + msg.Text);
        };
        page.PageError += (_, err) =>
        {
            lock (errors) errors.Add("page error: " + err);
        };

        await page.GotoAsync(new Uri(pagePath).AbsoluteUri, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        var charts = page.Locator("div.cn-chart");
        Assert.Equal(expectedCharts, await charts.CountAsync());
        for (var i = 0; i < expectedCharts; i++)
        {
            var svg = charts.Nth(i).Locator("svg.main-svg").First;
            await svg.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached, Timeout = 15000 });
        }
        // every chart drew at least one trace layer (heatmap image, scatter path or bar)
        var drawn = await page.EvaluateAsync<int>(
            "() => Array.from(document.querySelectorAll('div.cn-chart')).filter(d => d.querySelector('svg.main-svg') && d._fullData && d._fullData.length > 0).length");
        Assert.Equal(expectedCharts, drawn);

        var shots = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");
        Directory.CreateDirectory(shots);
        var shot = Path.Combine(shots, screenshotName + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        output.WriteLine($"screenshot: {shot}");
        for (var i = 0; i < expectedCharts; i++) // one per chart too, legible at full size
            await charts.Nth(i).ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(shots, $"{screenshotName}-chart{i}.png") });

        Assert.Empty(errors);
        Assert.Empty(blocked);
    }
}
