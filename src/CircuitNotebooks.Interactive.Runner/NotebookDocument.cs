using CircuitNotebooks.Models;
using System.Text.Json;
using System.Text.Json.Nodes;
using CircuitNotebooks.Interactive.Html;

namespace CircuitNotebooks.Interactive.Runner;

/// <summary>
/// An .ipynb (nbformat 4) notebook with Polyglot Notebooks metadata: kernelspec <c>.net-csharp</c>,
/// <c>polyglot_notebook.kernelInfo</c>, and <c>polyglot_notebook.kernelName</c> on each cell.
/// </summary>
public sealed class NotebookDocument
{
    public NotebookDocument(JsonObject? metadata = null)
    {
        Metadata = metadata ?? DefaultMetadata();
    }

    public JsonObject Metadata { get; }
    public List<NotebookCell> Cells { get; } = [];

    public static JsonObject DefaultMetadata() => new()
    {
        ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
        ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
        ["polyglot_notebook"] = new JsonObject
        {
            ["kernelInfo"] = new JsonObject
            {
                ["defaultKernelName"] = "csharp",
                ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = "csharp" }),
            },
        },
    };

    public static NotebookDocument Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"notebook not found: {path}", path);
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (FormatException e)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    public static NotebookDocument Parse(string json)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json)?.AsObject() ?? throw new FormatException("notebook JSON is empty");
        }
        catch (JsonException e)
        {
            throw new FormatException($"not valid notebook JSON: {e.Message}", e);
        }
        var nbformat = root["nbformat"]?.GetValue<int>() ?? throw new FormatException("missing 'nbformat'");
        if (nbformat != 4) throw new FormatException($"nbformat {nbformat} is not supported (expected 4)");
        var doc = new NotebookDocument(root["metadata"]?.DeepClone().AsObject() ?? new JsonObject());
        if (root["cells"] is not JsonArray cells) throw new FormatException("missing 'cells' array");
        for (var i = 0; i < cells.Count; i++)
        {
            var c = cells[i]?.AsObject() ?? throw new FormatException($"cells[{i}] is null");
            var type = c["cell_type"]?.GetValue<string>() ?? throw new FormatException($"cells[{i}] has no cell_type");
            var cell = new NotebookCell(type, JoinSource(c["source"], i), c["metadata"]?.DeepClone().AsObject());
            if (c["outputs"] is JsonArray outputs) cell.Outputs.AddRange(outputs.Select(o => o!.DeepClone().AsObject()));
            if (c["execution_count"] is JsonValue count && count.TryGetValue<int>(out var n)) cell.ExecutionCount = n;
            doc.Cells.Add(cell);
        }
        return doc;
    }

    public string ToJson()
    {
        var cells = new JsonArray();
        foreach (var cell in Cells)
        {
            var c = new JsonObject { ["cell_type"] = cell.CellType };
            if (cell.IsCode) c["execution_count"] = cell.ExecutionCount;
            c["metadata"] = cell.Metadata.DeepClone();
            if (cell.IsCode) c["outputs"] = new JsonArray(cell.Outputs.Select(o => (JsonNode)o.DeepClone()).ToArray());
            c["source"] = SplitSource(cell.Source);
            cells.Add(c);
        }
        var root = new JsonObject
        {
            ["cells"] = cells,
            ["metadata"] = Metadata.DeepClone(),
            ["nbformat"] = 4,
            ["nbformat_minor"] = 2,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>Writes atomically; returns the full path.</summary>
    public string Save(string path)
    {
        AtomicFile.WriteAllText(path, ToJson());
        return Path.GetFullPath(path);
    }

    private static string JoinSource(JsonNode? source, int index) => source switch
    {
        null => "",
        JsonArray lines => string.Concat(lines.Select(l => l?.GetValue<string>() ?? "")),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw new FormatException($"cells[{index}].source must be a string or an array of strings"),
    };

    /// <summary>nbformat's multiline string: lines keeping their "\n", the last without.</summary>
    internal static JsonArray SplitSource(string text)
    {
        var array = new JsonArray();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\n') continue;
            array.Add(text[start..(i + 1)]);
            start = i + 1;
        }
        if (start < text.Length) array.Add(text[start..]);
        return array;
    }
}
