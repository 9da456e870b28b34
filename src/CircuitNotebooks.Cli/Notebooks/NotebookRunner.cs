using System.Diagnostics;
using System.Reactive.Linq;
using CircuitNotebooks.Interactive.Html;
using CircuitNotebooks.Models;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;
using Microsoft.DotNet.Interactive.Events;
using DocumentKernelInfo = Microsoft.DotNet.Interactive.Documents.KernelInfo;

namespace CircuitNotebooks.Cli.Notebooks;

/// <summary>
/// Runs a notebook top to bottom in the real C# kernel (<see cref="NotebookKernel"/>), stopping at the first failing
/// cell, and writes the executed .ipynb and an offline HTML page. Runs are serialised: the kernel's formatters and
/// the process's current directory are process-wide.
/// </summary>
public static class NotebookRunner
{
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    public static KernelInfoCollection KernelInfos()
    {
        var infos = new KernelInfoCollection
        {
            new DocumentKernelInfo(NotebookKernel.CSharp, "C#", ["c#", "C#"]),
            new DocumentKernelInfo("markdown", "Markdown", ["md"]),
        };
        infos.DefaultKernelName = NotebookKernel.CSharp;
        return infos;
    }

    /// <summary>Reads an .ipynb; a clear error names the file when it is not a notebook.</summary>
    public static InteractiveDocument Load(string path)
    {
        try
        {
            return Notebook.Parse(File.ReadAllText(path), KernelInfos());
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a readable .ipynb notebook ({e.Message})", e);
        }
    }

    public static async Task<NotebookRunResult> RunAsync(NotebookRunOptions options, IProgress<NotebookRunProgress>? progress = null,
                                                         CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var input = Load(options.NotebookPath);
        var parametersCell = input.Elements.Where(IsCode).SingleOrDefaultOrThrow(HasTag, options.NotebookPath);
        if (options.Parameters.Count > 0 && parametersCell is null)
            throw new ArgumentException($"{options.NotebookPath}: parameters were given ({string.Join(", ", options.Parameters.Keys)}) but no cell is tagged '{NotebookParameters.Tag}'");
        // Validated before any cell runs: a typo in -p should not cost a model load.
        var injection = parametersCell is null || options.Parameters.Count == 0 ? null
            : NotebookParameters.Injection(parametersCell.Contents, options.Parameters, options.NotebookPath);

        await OneAtATime.WaitAsync(cancellationToken);
        var previousDirectory = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = options.WorkingDirectory ?? Path.GetDirectoryName(Path.GetFullPath(options.NotebookPath))!;
            PlotlyEmbedding.Reset(); // a new document: its first chart carries plotly.js again
            var clock = Stopwatch.StartNew();
            var output = new InteractiveDocument();
            foreach (var (key, value) in input.Metadata) output.Metadata[key] = value;
            using var kernel = NotebookKernel.Create();
            NotebookCellFailure? failure = null;
            int codeCells = 0, executionCount = 0;
            var cells = input.Elements.ToList();
            for (var i = 0; i < cells.Count; i++)
            {
                var cell = Copy(cells[i]);
                output.Add(cell);
                if (!IsCode(cell) || failure != null) continue;
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new NotebookRunProgress(i + 1, cells.Count, "running"));
                cell.ExecutionOrder = ++executionCount;
                codeCells++;
                if (await RunCellAsync(kernel, cell, cancellationToken) is { } error) failure = new NotebookCellFailure(i + 1, error);
                if (failure == null && ReferenceEquals(cells[i], parametersCell) && injection != null)
                {
                    var injected = new InteractiveDocumentElement(injection, NotebookKernel.CSharp)
                    {
                        Metadata = new Dictionary<string, object> { ["tags"] = new[] { NotebookParameters.InjectedTag } },
                        ExecutionOrder = ++executionCount,
                    };
                    output.Add(injected);
                    if (await RunCellAsync(kernel, injected, cancellationToken) is { } e)
                        failure = new NotebookCellFailure(i + 1, "injected parameters: " + e);
                }
            }
            clock.Stop();
            string? ipynb = null, html = null;
            if (options.OutputNotebookPath is { } nbPath)
            {
                AtomicFile.WriteAllText(nbPath, Notebook.ToJupyterJson(output));
                ipynb = Path.GetFullPath(nbPath);
            }
            if (options.OutputHtmlPath is { } htmlPath)
                html = NotebookHtml.Render(output, Path.GetFileNameWithoutExtension(options.NotebookPath)).Save(htmlPath);
            return new NotebookRunResult(output, codeCells, clock.Elapsed, failure, ipynb, html);
        }
        finally
        {
            Environment.CurrentDirectory = previousDirectory;
            OneAtATime.Release();
        }
    }

    /// <summary>Submits one cell and records its outputs; returns the error text when the cell failed.</summary>
    private static async Task<string?> RunCellAsync(Kernel kernel, InteractiveDocumentElement cell, CancellationToken cancellationToken)
    {
        var command = new SubmitCode(cell.Contents, NotebookKernel.CSharp);
        var outputs = new CellOutputs(cell.Outputs);
        string? error = null;
        using (kernel.KernelEvents.Subscribe(e =>
        {
            lock (outputs)
            {
                switch (e)
                {
                    case StandardOutputValueProduced o: outputs.Stream("stdout", o); break;
                    case StandardErrorValueProduced o: outputs.Stream("stderr", o); break;
                    case DisplayedValueUpdated u: outputs.Update(u); break;
                    case DisplayedValueProduced d: outputs.Display(d); break;
                    case ReturnValueProduced r when r.Value is not Microsoft.DotNet.Interactive.Formatting.DisplayedValue: outputs.Display(r); break;
                    // Extension scripts report failures only this way, never as the command's CommandFailed.
                    case ErrorProduced p:
                        outputs.Error("Error", p.Message);
                        error ??= p.Message;
                        break;
                    case CommandFailed f when ReferenceEquals(f.Command, command) || error == null:
                        outputs.Error(f.Exception?.GetType().Name ?? "Error", f.Message);
                        error ??= f.Message;
                        break;
                }
            }
        }))
        {
            await kernel.SendAsync(command, cancellationToken);
        }
        return error;
    }

    private static bool IsCode(InteractiveDocumentElement e) => e.KernelName is NotebookKernel.CSharp or "c#" or "C#";

    private static bool HasTag(InteractiveDocumentElement e) =>
        e.Metadata is { } m && m.TryGetValue("tags", out var tags) && tags switch
        {
            IEnumerable<object> list => list.Any(t => Equals(t?.ToString(), NotebookParameters.Tag)),
            System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.Array } json =>
                json.EnumerateArray().Any(t => t.GetString() == NotebookParameters.Tag),
            _ => false,
        };

    private static InteractiveDocumentElement? SingleOrDefaultOrThrow(this IEnumerable<InteractiveDocumentElement> cells,
        Func<InteractiveDocumentElement, bool> tagged, string notebook)
    {
        var matches = cells.Where(tagged).ToList();
        if (matches.Count > 1) throw new InvalidDataException($"{notebook}: {matches.Count} cells are tagged '{NotebookParameters.Tag}'; at most one may be.");
        return matches.SingleOrDefault();
    }

    /// <summary>The cell without outputs (committed notebooks have none; a re-run replaces them).</summary>
    private static InteractiveDocumentElement Copy(InteractiveDocumentElement e) =>
        new(e.Contents, e.KernelName) { Metadata = e.Metadata is null ? null : new Dictionary<string, object>(e.Metadata) };
}
