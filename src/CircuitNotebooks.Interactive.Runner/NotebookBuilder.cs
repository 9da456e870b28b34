namespace CircuitNotebooks.Interactive.Runner;

/// <summary>
/// Writes notebooks programmatically (the repository's notebooks/ are authored with it), with the metadata VS Code
/// Polyglot Notebooks expects.
/// <code>
/// new NotebookBuilder()
///     .Markdown("# Title")
///     .Code("#r \"nuget: CircuitNotebooks.Interactive\"")
///     .Parameters("var edges = 200;")
///     .Code("display(edges);")
///     .Save("notebooks/example.ipynb");
/// </code>
/// </summary>
public sealed class NotebookBuilder
{
    private readonly NotebookDocument _document = new();

    public NotebookBuilder Markdown(string markdown)
    {
        _document.Cells.Add(NotebookCell.CreateMarkdown(Normalize(markdown)));
        return this;
    }

    public NotebookBuilder Code(string code, params string[] tags)
    {
        _document.Cells.Add(NotebookCell.CreateCode(Normalize(code), tags));
        return this;
    }

    /// <summary>The cell the runner overrides papermill-style (tag "parameters"). At most one per notebook.</summary>
    public NotebookBuilder Parameters(string code)
    {
        if (_document.Cells.Any(c => c.Tags.Contains(NotebookRunner.ParametersTag)))
            throw new InvalidOperationException("a notebook has at most one cell tagged 'parameters'");
        return Code(code, NotebookRunner.ParametersTag);
    }

    public NotebookDocument Build() => NotebookDocument.Parse(_document.ToJson());

    public string Save(string path) => _document.Save(path);

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).Trim('\n');
}
