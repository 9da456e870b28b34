namespace CircuitNotebooks.Interactive.Runner;

/// <summary>What to run and where to write the results.</summary>
public sealed record NotebookRunOptions
{
    /// <summary>The .ipynb to execute.</summary>
    public required string NotebookPath { get; init; }

    /// <summary>Executed notebook with outputs; null to skip.</summary>
    public string? OutputNotebookPath { get; init; }

    /// <summary>Self-contained offline HTML page of the executed notebook; null to skip.</summary>
    public string? OutputHtmlPath { get; init; }

    /// <summary>Overrides for the variables of the cell tagged "parameters" (see <see cref="NotebookParameters"/>).</summary>
    public IReadOnlyDictionary<string, object?> Parameters { get; init; } = new Dictionary<string, object?>();

    /// <summary>Where relative paths in the notebook resolve; defaults to the notebook's folder (as in the kernel).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>What #r "nuget: …" resolves to; defaults to <see cref="PackageMap.Default"/>.</summary>
    public PackageMap? Packages { get; init; }

    /// <summary>Throw <see cref="NotebookCellException"/> on the first failing cell (after writing the outputs so far).</summary>
    public bool ThrowOnError { get; init; } = true;
}

/// <summary>Per-cell progress of a run.</summary>
public sealed record NotebookRunProgress(int CellNumber, int CellCount, string Status);

/// <summary>The executed notebook and what happened.</summary>
public sealed record NotebookRunResult(
    NotebookDocument Notebook,
    int CodeCellsRun,
    IReadOnlyList<string> Notes,
    NotebookCellException? Failure,
    TimeSpan Elapsed,
    string? OutputNotebookPath,
    string? OutputHtmlPath)
{
    public bool Succeeded => Failure == null;
}
