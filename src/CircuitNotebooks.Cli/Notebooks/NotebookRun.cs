using Microsoft.DotNet.Interactive.Documents;

namespace CircuitNotebooks.Cli.Notebooks;

/// <summary>What to run and where to write it.</summary>
public sealed record NotebookRunOptions
{
    /// <summary>The .ipynb to run.</summary>
    public required string NotebookPath { get; init; }

    /// <summary>Executed notebook with outputs (.ipynb); null writes none.</summary>
    public string? OutputNotebookPath { get; init; }

    /// <summary>Offline HTML page of the executed notebook; null writes none.</summary>
    public string? OutputHtmlPath { get; init; }

    /// <summary>Overrides of the parameters cell's variables (name → value as text).</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>The kernel's current directory (relative paths in cells, NuGet.Config lookup). Default: the notebook's folder, as in VS Code.</summary>
    public string? WorkingDirectory { get; init; }
}

/// <summary>Progress: cell <see cref="CellNumber"/> (1-based, all cells) of <see cref="CellCount"/>.</summary>
public sealed record NotebookRunProgress(int CellNumber, int CellCount, string Status);

/// <summary>The first failing cell: its number (1-based, all cells) and what the kernel reported.</summary>
public sealed record NotebookCellFailure(int CellNumber, string Message)
{
    public override string ToString() => $"cell {CellNumber} failed: {Message}";
}

/// <summary>The executed notebook (cells after a failure keep no outputs) and where it was written.</summary>
public sealed record NotebookRunResult(InteractiveDocument Notebook, int CodeCellsRun, TimeSpan Elapsed, NotebookCellFailure? Failure,
                                       string? OutputNotebookPath, string? OutputHtmlPath)
{
    public bool Succeeded => Failure == null;
}
