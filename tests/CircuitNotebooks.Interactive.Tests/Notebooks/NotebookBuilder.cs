using System.Text.Json.Nodes;
using CircuitNotebooks.Cli.Notebooks;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;

namespace CircuitNotebooks.Interactive.Tests.Notebooks;

/// <summary>
/// Writes notebooks from C# sources (the repository's notebooks/ are authored with it), serialised by .NET
/// Interactive's own .ipynb writer, so the files carry exactly the metadata Polyglot Notebooks writes.
/// </summary>
internal sealed class NotebookBuilder
{
    private readonly InteractiveDocument _document = new();

    /// <summary>What VS Code's Polyglot Notebooks writes for a C# notebook (the Documents writer omits the kernelInfo level).</summary>
    private static JsonObject PolyglotMetadata() => new()
    {
        ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
        ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
        ["polyglot_notebook"] = new JsonObject
        {
            ["kernelInfo"] = new JsonObject
            {
                ["defaultKernelName"] = NotebookKernel.CSharp,
                ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = NotebookKernel.CSharp }),
            },
        },
    };

    public NotebookBuilder Markdown(string markdown)
    {
        _document.Add(new InteractiveDocumentElement(Normalize(markdown), "markdown"));
        return this;
    }

    public NotebookBuilder Code(string code, params string[] tags)
    {
        var cell = new InteractiveDocumentElement(Normalize(code), NotebookKernel.CSharp);
        if (tags.Length > 0) cell.Metadata = new Dictionary<string, object> { ["tags"] = tags };
        _document.Add(cell);
        return this;
    }

    /// <summary>The cell `notebook run` overrides papermill-style (tag "parameters"). At most one per notebook.</summary>
    public NotebookBuilder Parameters(string code) => Code(code, NotebookParameters.Tag);

    public string ToJson()
    {
        var notebook = JsonNode.Parse(Notebook.ToJupyterJson(_document, NotebookKernel.CSharp))!.AsObject();
        notebook["metadata"] = PolyglotMetadata();
        return notebook.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, IndentSize = 1,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    public string Save(string path)
    {
        CircuitNotebooks.Models.AtomicFile.WriteAllText(path, ToJson());
        return Path.GetFullPath(path);
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).Trim('\n');
}
