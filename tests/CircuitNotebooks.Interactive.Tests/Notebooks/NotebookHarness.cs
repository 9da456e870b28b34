using System.Diagnostics;
using System.Text.Json.Nodes;
using CircuitNotebooks.Interactive.Runner;
using Xunit.Abstractions;

namespace CircuitNotebooks.Interactive.Tests.Notebooks;

/// <summary>Runs a committed notebook with fast parameters and exposes its outputs to assertions.</summary>
internal sealed class ExecutedNotebook
{
    private ExecutedNotebook(NotebookRunResult result, string outDir)
    {
        Result = result;
        OutDir = outDir;
    }

    public NotebookRunResult Result { get; }
    /// <summary>The notebook's outDir parameter (a fresh test folder).</summary>
    public string OutDir { get; }
    public IReadOnlyList<NotebookCell> Cells => Result.Notebook.Cells;

    public static async Task<ExecutedNotebook> RunAsync(string name, ITestOutputHelper log, params string[] overrides)
    {
        var dir = TestPaths.NewDirectory("notebook-" + name);
        var outDir = Path.Combine(dir, "out");
        var parameters = NotebookParameters.Parse([$"modelDir={Repo.DefaultModel}", $"outDir={outDir}", .. overrides]);
        var clock = Stopwatch.StartNew();
        var result = await NotebookRunner.RunAsync(new NotebookRunOptions
        {
            NotebookPath = Path.Combine(Repo.Root, "notebooks", name + ".ipynb"),
            OutputNotebookPath = Path.Combine(dir, name + ".ipynb"),
            OutputHtmlPath = Path.Combine(dir, name + ".html"),
            Parameters = parameters,
            ThrowOnError = false,
        }, new CellTimer(log, clock));
        log.WriteLine($"{name}: {clock.Elapsed.TotalSeconds:F1} s, {result.CodeCellsRun} code cells → {result.OutputHtmlPath}");
        if (!result.Succeeded)
            throw new Xunit.Sdk.XunitException($"{name} failed at cell {result.Failure!.CellNumber}: {result.Failure.Detail}\n(see {result.OutputNotebookPath})");
        return new ExecutedNotebook(result, outDir);
    }

    /// <summary>All stdout text of the notebook, in order.</summary>
    public string Stdout => string.Concat(Cells.SelectMany(c => c.Outputs)
        .Where(o => o["output_type"]!.GetValue<string>() == "stream")
        .SelectMany(o => o["text"]!.AsArray().Select(t => t!.GetValue<string>())));

    /// <summary>text/html of every display output, in order.</summary>
    public IEnumerable<string> Html => Displays.Select(d => d["data"]!["text/html"]!.GetValue<string>());

    public IEnumerable<JsonObject> Displays => Cells.SelectMany(c => c.Outputs).Where(o => o["output_type"]!.GetValue<string>() == "display_data");

    /// <summary>Values of "key: value" lines the notebook printed (last occurrence wins).</summary>
    public string Printed(string key)
    {
        string? value = null;
        foreach (var line in Stdout.Split('\n'))
            if (line.StartsWith(key + ": ", StringComparison.Ordinal)) value = line[(key.Length + 2)..].Trim();
        return value ?? throw new Xunit.Sdk.XunitException($"the notebook printed no line starting with '{key}: '. Output:\n{Stdout}");
    }

    public double PrintedNumber(string key) => double.Parse(Printed(key).Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Logs when each cell starts, so a slow notebook shows which cell to speed up.</summary>
internal sealed class CellTimer(ITestOutputHelper log, Stopwatch clock) : IProgress<NotebookRunProgress>
{
    public void Report(NotebookRunProgress value) =>
        log.WriteLine($"  {clock.Elapsed.TotalSeconds,6:F1} s  cell {value.CellNumber}/{value.CellCount} {value.Status}");
}
