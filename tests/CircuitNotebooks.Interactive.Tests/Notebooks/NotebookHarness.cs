using System.Diagnostics;
using CircuitNotebooks.Cli.Notebooks;
using Microsoft.DotNet.Interactive.Documents;
using Xunit.Abstractions;

namespace CircuitNotebooks.Interactive.Tests.Notebooks;

/// <summary>
/// Runs a committed notebook, unmodified, in the real C# kernel (hosted in-process by the CLI's runner) with fast
/// parameters. Its first cell restores the freshly packed package through a NuGet.Config, exactly as a user's does.
/// </summary>
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
    public IList<InteractiveDocumentElement> Cells => Result.Notebook.Elements;

    /// <summary>A committed notebook on its default model, writing into a fresh outDir, with <paramref name="overrides"/>.</summary>
    public static Task<ExecutedNotebook> RunAsync(string name, ITestOutputHelper log, params string[] overrides) =>
        RunFileAsync(Path.Combine(Repo.Root, "notebooks", name + ".ipynb"), log,
                     dir => [$"modelDir={ModelOf(name)}", $"outDir={Path.Combine(dir, "out")}", .. overrides]);

    /// <summary>Notebook 07 studies entity tracking, which only the previous default model does.</summary>
    public static string ModelOf(string notebook) => notebook.StartsWith("07-", StringComparison.Ordinal) ? Repo.EntityModel : Repo.DefaultModel;

    public static async Task<ExecutedNotebook> RunFileAsync(string notebookPath, ITestOutputHelper log, Func<string, string[]>? parameters = null)
    {
        var name = Path.GetFileNameWithoutExtension(notebookPath);
        var dir = KernelPackages.NewWorkingDirectory("notebook-" + name);
        var outDir = Path.Combine(dir, "out");
        var clock = Stopwatch.StartNew();
        var result = await NotebookRunner.RunAsync(new NotebookRunOptions
        {
            NotebookPath = notebookPath,
            WorkingDirectory = dir,
            OutputNotebookPath = Path.Combine(dir, name + ".ipynb"),
            OutputHtmlPath = Path.Combine(dir, name + ".html"),
            Parameters = NotebookParameters.Parse(parameters?.Invoke(dir) ?? []),
        }, new Progress<NotebookRunProgress>(p => log.WriteLine($"  {clock.Elapsed.TotalSeconds,6:F1} s  cell {p.CellNumber}/{p.CellCount}")));
        log.WriteLine($"{name}: {clock.Elapsed.TotalSeconds:F1} s, {result.CodeCellsRun} code cells → {result.OutputHtmlPath}");
        var executed = new ExecutedNotebook(result, outDir);
        if (!result.Succeeded)
            throw new Xunit.Sdk.XunitException($"{name}: {result.Failure}\n(see {result.OutputNotebookPath})");
        return executed;
    }

    private IEnumerable<InteractiveDocumentOutputElement> Outputs => Cells.SelectMany(c => c.Outputs);

    /// <summary>All stdout text of the notebook, in order.</summary>
    public string Stdout => string.Concat(Outputs.OfType<TextElement>().Where(t => t.Name == "stdout").Select(t => t.Text));

    /// <summary>text/html of every display output, in order.</summary>
    public IEnumerable<string> Html => Outputs.OfType<DisplayElement>()
        .Where(d => d.Data.ContainsKey("text/html")).Select(d => d.Data["text/html"].ToString()!);

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
