using System.Text.Json.Nodes;

namespace CircuitNotebooks.Interactive.Runner;

/// <summary>One .ipynb cell. Metadata and outputs stay JSON so fields we do not model survive a round trip.</summary>
public sealed class NotebookCell
{
    public const string Code = "code";
    public const string Markdown = "markdown";

    public NotebookCell(string cellType, string source, JsonObject? metadata = null)
    {
        if (cellType is not (Code or Markdown or "raw"))
            throw new ArgumentException($"cell_type must be code, markdown or raw, not '{cellType}'", nameof(cellType));
        CellType = cellType;
        Source = source;
        Metadata = metadata ?? new JsonObject();
    }

    public string CellType { get; }
    public string Source { get; set; }
    public JsonObject Metadata { get; }
    public List<JsonObject> Outputs { get; } = [];
    public int? ExecutionCount { get; set; }

    public bool IsCode => CellType == Code;
    public bool IsMarkdown => CellType == Markdown;

    /// <summary>metadata.tags (papermill's "parameters" tag lives here).</summary>
    public IReadOnlyList<string> Tags =>
        Metadata["tags"] is JsonArray tags ? tags.Select(t => t?.GetValue<string>() ?? "").ToArray() : [];

    /// <summary>metadata.polyglot_notebook.kernelName (or the older dotnet_interactive.language), if any.</summary>
    public string? KernelName =>
        Metadata["polyglot_notebook"]?["kernelName"]?.GetValue<string>() ?? Metadata["dotnet_interactive"]?["language"]?.GetValue<string>();

    public static NotebookCell CreateCode(string source, params string[] tags)
    {
        var metadata = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" } };
        if (tags.Length > 0) metadata["tags"] = new JsonArray(tags.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray());
        return new NotebookCell(Code, source, metadata);
    }

    public static NotebookCell CreateMarkdown(string source) =>
        new(Markdown, source, new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "markdown" } });
}
