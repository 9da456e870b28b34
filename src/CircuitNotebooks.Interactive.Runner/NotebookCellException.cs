namespace CircuitNotebooks.Interactive.Runner;

/// <summary>A notebook cell failed to compile or threw; the run stopped there.</summary>
public sealed class NotebookCellException : Exception
{
    public NotebookCellException(string notebook, int cellNumber, string detail, Exception? inner = null)
        : base($"{notebook}: cell {cellNumber} failed: {detail}", inner)
    {
        Notebook = notebook;
        CellNumber = cellNumber;
        Detail = detail;
    }

    /// <summary>Notebook path (or name) as given to the runner.</summary>
    public string Notebook { get; }

    /// <summary>1-based position among ALL cells of the input notebook, markdown included (what an editor shows).</summary>
    public int CellNumber { get; }

    /// <summary>Compiler diagnostics or "ExceptionType: message".</summary>
    public string Detail { get; }
}
