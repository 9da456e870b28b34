using System.Text.Json.Nodes;
using CircuitNotebooks.Interactive.Html;
using CircuitNotebooks.Interactive.Runner;
using Xunit;

namespace CircuitNotebooks.Interactive.Tests;

public class RunnerTests
{
    private static string Write(NotebookBuilder builder, string dir, string name = "nb.ipynb") => builder.Save(Path.Combine(dir, name));

    private static IEnumerable<JsonObject> Displays(NotebookCell cell) =>
        cell.Outputs.Where(o => o["output_type"]!.GetValue<string>() == "display_data");

    private static string Plain(JsonObject output) => output["data"]!["text/plain"]!.GetValue<string>();

    private static NotebookBuilder Sample() => new NotebookBuilder()
        .Markdown("# Sample\nSome *prose* with `code`.")
        .Code("#!csharp\n#r \"nuget: CircuitNotebooks.Interactive, 0.1.0\"\nusing CircuitNotebooks.Interactive.Charts;")
        .Parameters("var n = 3;\ndouble scale = 0.5;\nstring label = \"squares\";")
        .Code("var squares = Enumerable.Range(1, n).Select(i => i * i * scale).ToArray();\nConsole.WriteLine($\"{label}: {squares.Length}\");\ndisplay(squares.Sum());")
        .Code("var chart = Heatmaps.LayerByHead(new double[,] { { 1, -2 }, { 0.5, 0 } });\ndisplay(chart);\ndisplay(chart);\nsquares.Length");

    [Fact]
    public async Task RunsCellsInOrderWithSharedStateAndInjectedParameters()
    {
        var dir = TestPaths.NewDirectory("runner");
        var path = Write(Sample(), dir);
        var result = await NotebookRunner.RunAsync(new NotebookRunOptions
        {
            NotebookPath = path,
            OutputNotebookPath = Path.Combine(dir, "out.ipynb"),
            OutputHtmlPath = Path.Combine(dir, "out.html"),
            Parameters = NotebookParameters.Parse(["n=5", "scale=2"]),
        });

        Assert.True(result.Succeeded);
        var cells = result.Notebook.Cells;
        // markdown, #r, parameters, injected, squares, chart
        Assert.Equal(6, cells.Count);
        Assert.Equal(["injected-parameters"], cells[3].Tags);
        Assert.Contains("int n = 5;", cells[3].Source);
        Assert.Contains("double scale = 2d;", cells[3].Source);

        // independent: 2 * (1 + 4 + 9 + 16 + 25) = 110
        var sum = 2.0 * Enumerable.Range(1, 5).Sum(i => i * i);
        Assert.Equal(sum.ToString(System.Globalization.CultureInfo.InvariantCulture), Plain(Displays(cells[4]).Single()));
        var stdout = cells[4].Outputs.Single(o => o["output_type"]!.GetValue<string>() == "stream");
        Assert.Equal("squares: 5\n", string.Concat(stdout["text"]!.AsArray().Select(t => t!.GetValue<string>())));

        // two chart displays, then the cell's last expression (squares.Length = n)
        var chartCell = Displays(cells[5]).ToArray();
        Assert.Equal(3, chartCell.Length);
        Assert.Equal("5", Plain(chartCell[2]));
        Assert.Contains(result.Notes, n => n.Contains("version ignored"));

        var html = File.ReadAllText(result.OutputHtmlPath!);
        Assert.Equal(1, TestPaths.Count(html, PlotlyJs.EmbedMarker + "="));
        Assert.Equal(2, TestPaths.Count(html, "Plotly.newPlot(el, fig.data"));
        Assert.Contains("<h1>Sample</h1>", html);
        Assert.Contains("<em>prose</em>", html);

        var written = NotebookDocument.Load(result.OutputNotebookPath!);
        Assert.Equal(".net-csharp", written.Metadata["kernelspec"]!["name"]!.GetValue<string>());
        Assert.Equal("csharp", written.Metadata["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]!.GetValue<string>());
        Assert.All(written.Cells.Where(c => c.IsCode), c => Assert.Equal("csharp", c.KernelName));
        Assert.Equal(3, Displays(written.Cells[5]).Count());
    }

    [Fact]
    public async Task WithoutOverridesNoCellIsInjected()
    {
        var dir = TestPaths.NewDirectory("runner-noparams");
        var result = await NotebookRunner.RunAsync(new NotebookRunOptions { NotebookPath = Write(Sample(), dir) });
        Assert.Equal(5, result.Notebook.Cells.Count);
        Assert.Equal("3", Plain(Displays(result.Notebook.Cells[4]).Last()));
    }

    [Fact]
    public async Task CompileErrorStopsAtTheCellAndWritesThePartialNotebook()
    {
        var dir = TestPaths.NewDirectory("runner-compile");
        var path = Write(new NotebookBuilder().Code("var a = 1;").Markdown("text").Code("int b = \"text\";").Code("var never = 1;"), dir);
        var e = await Assert.ThrowsAsync<NotebookCellException>(() => NotebookRunner.RunAsync(
            new NotebookRunOptions { NotebookPath = path, OutputNotebookPath = Path.Combine(dir, "out.ipynb") }));
        Assert.Equal(3, e.CellNumber);
        Assert.Contains("CS0029", e.Message);
        Assert.Contains("cell 3", e.Message);
        var written = NotebookDocument.Load(Path.Combine(dir, "out.ipynb"));
        Assert.Equal(4, written.Cells.Count);
        Assert.Equal("error", written.Cells[2].Outputs.Single()["output_type"]!.GetValue<string>());
        Assert.Null(written.Cells[3].ExecutionCount);
    }

    [Fact]
    public async Task RuntimeExceptionReportsTypeMessageAndCell()
    {
        var dir = TestPaths.NewDirectory("runner-throw");
        var path = Write(new NotebookBuilder().Code("var a = 1;").Code("if (a == 1) throw new InvalidOperationException(\"boom\");"), dir);
        var result = await NotebookRunner.RunAsync(new NotebookRunOptions { NotebookPath = path, ThrowOnError = false });
        Assert.False(result.Succeeded);
        Assert.Equal(2, result.Failure!.CellNumber);
        Assert.Equal("System.InvalidOperationException: boom", result.Failure.Detail);
    }

    [Fact]
    public async Task UnknownPackageIsAClearError()
    {
        var dir = TestPaths.NewDirectory("runner-nuget");
        var path = Write(new NotebookBuilder().Code("#r \"nuget: Not.A.Real.Package\""), dir);
        var e = await Assert.ThrowsAsync<NotebookCellException>(() => NotebookRunner.RunAsync(new NotebookRunOptions { NotebookPath = path }));
        Assert.Equal(1, e.CellNumber);
        Assert.Contains("Not.A.Real.Package", e.Message);
        Assert.Contains("CircuitNotebooks.Interactive", e.Message); // the known list
    }

    [Fact]
    public async Task ImportInlinesCsxAndUnknownMagicFails()
    {
        var dir = TestPaths.NewDirectory("runner-import");
        File.WriteAllText(Path.Combine(dir, "helpers.csx"), "static int Triple(int x) => 3 * x;\n");
        var path = Write(new NotebookBuilder().Code("#!import helpers.csx").Code("Triple(14)"), dir);
        var result = await NotebookRunner.RunAsync(new NotebookRunOptions { NotebookPath = path });
        Assert.Equal("42", Plain(Displays(result.Notebook.Cells[1]).Single()));

        var bad = Write(new NotebookBuilder().Code("#!fsharp\nlet x = 1"), dir, "bad.ipynb");
        var e = await Assert.ThrowsAsync<NotebookCellException>(() => NotebookRunner.RunAsync(new NotebookRunOptions { NotebookPath = bad }));
        Assert.Contains("#!fsharp", e.Message);
    }

    [Fact]
    public async Task CircuitModelMagicLoadsTheModelIntoAVariableAndShowsIt()
    {
        var dir = TestPaths.NewDirectory("runner-circuit-model");
        var model = Path.Combine(Notebooks.Repo.Root, "data", "models", "tiny-neox");
        var path = Write(new NotebookBuilder()
            .Code("#r \"nuget: CircuitNotebooks.Interactive\"")
            .Code($"#!circuit-model \"{model}\" --name tiny --device cpu\ntiny.Config.NLayers"), dir);
        var result = await NotebookRunner.RunAsync(new NotebookRunOptions { NotebookPath = path });
        var shown = Displays(result.Notebook.Cells[1]).ToArray();
        Assert.Equal(2, shown.Length);
        Assert.Contains("architecture: GptNeoX", Plain(shown[0]));
        var layers = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(model, "config.json")))!["num_hidden_layers"]!.GetValue<int>();
        Assert.Equal(layers.ToString(), Plain(shown[1]));

        var bad = Write(new NotebookBuilder().Code("#!circuit-model no/such/dir"), dir, "bad.ipynb");
        var e = await Assert.ThrowsAsync<NotebookCellException>(() => NotebookRunner.RunAsync(new NotebookRunOptions { NotebookPath = bad }));
        Assert.Contains("no/such/dir", e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public async Task OverrideOfUndeclaredParameterIsRejected()
    {
        var dir = TestPaths.NewDirectory("runner-undeclared");
        var path = Write(new NotebookBuilder().Parameters("var n = 1;"), dir);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => NotebookRunner.RunAsync(new NotebookRunOptions
        {
            NotebookPath = path,
            Parameters = new Dictionary<string, object?> { ["m"] = 2 },
        }));
        Assert.Contains("'m'", e.Message);
    }

    [Fact]
    public void ParameterLiteralsRoundTripThroughTheCompiler()
    {
        Assert.Equal("int n = 5;", NotebookParameters.Declaration("n", typeof(int), "5"));
        Assert.Equal("double x = 0.1d;", NotebookParameters.Declaration("x", typeof(double), "0.1"));
        Assert.Equal("string s = \"a\\\"b\";", NotebookParameters.Declaration("s", typeof(string), "a\"b"));
        Assert.Equal("bool f = true;", NotebookParameters.Declaration("f", typeof(bool), "True"));
        Assert.Throws<ArgumentException>(() => NotebookParameters.Declaration("n", typeof(int), "abc"));
    }
}
