using CircuitNotebooks.Models;
using System.Text;
using System.Text.Json;

namespace CircuitNotebooks.Tasks;

/// <summary>
/// JSON Lines: one object per line, {"clean", "corrupted", "label", "corrupted_label"?, "metadata"?}. Blank lines are
/// skipped on read.
/// </summary>
public static class TaskJsonl
{
    public static void Write(string path, IEnumerable<TaskExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        AtomicFile.WriteAllText(path, ToJsonl(examples));
    }

    public static string ToJsonl(IEnumerable<TaskExample> examples)
    {
        var sb = new StringBuilder();
        using var ms = new MemoryStream();
        foreach (var ex in examples)
        {
            ms.SetLength(0);
            using (var w = new Utf8JsonWriter(ms, MetadataJson.WriterOptions))
            {
                w.WriteStartObject();
                w.WriteString("clean", ex.Clean);
                w.WriteString("corrupted", ex.Corrupted);
                w.WriteString("label", ex.Label);
                if (ex.CorruptedLabel is not null) w.WriteString("corrupted_label", ex.CorruptedLabel);
                if (ex.Metadata.Count > 0)
                {
                    w.WritePropertyName("metadata");
                    MetadataJson.Write(w, ex.Metadata);
                }
                w.WriteEndObject();
            }
            sb.Append(Encoding.UTF8.GetString(ms.ToArray())).Append('\n');
        }
        return sb.ToString();
    }

    public static IReadOnlyList<TaskExample> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Dataset file not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    public static IReadOnlyList<TaskExample> Parse(string text, string fileName = "<jsonl>")
    {
        var result = new List<TaskExample>();
        var lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            var line = lines[n].TrimEnd('\r');
            if (n == 0) line = line.TrimStart('\uFEFF');
            if (line.Trim().Length == 0) continue;
            int lineNo = n + 1;
            DatasetFormatException Err(string? column, string problem, Exception? inner = null) =>
                new(fileName, lineNo, column, problem, inner);
            try
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw Err(null, $"expected a JSON object, found {root.ValueKind}");
                string Required(string name)
                {
                    if (!root.TryGetProperty(name, out var p)) throw Err(name, $"missing required field \"{name}\"");
                    if (p.ValueKind != JsonValueKind.String) throw Err(name, $"field \"{name}\" must be a string, found {p.ValueKind}");
                    return p.GetString()!;
                }
                var clean = Required("clean");
                var corrupted = Required("corrupted");
                var label = Required("label");
                if (label.Length == 0) throw Err("label", "label is empty");
                string? corruptedLabel = null;
                if (root.TryGetProperty("corrupted_label", out var cl) && cl.ValueKind != JsonValueKind.Null)
                {
                    if (cl.ValueKind != JsonValueKind.String)
                        throw Err("corrupted_label", $"field \"corrupted_label\" must be a string or null, found {cl.ValueKind}");
                    corruptedLabel = cl.GetString();
                }
                Dictionary<string, string>? meta = null;
                if (root.TryGetProperty("metadata", out var m) && m.ValueKind != JsonValueKind.Null)
                    meta = MetadataJson.Read(m, p => Err("metadata", p));
                result.Add(new TaskExample(clean, corrupted, label, corruptedLabel, meta));
            }
            catch (JsonException e)
            {
                throw Err(e.BytePositionInLine is { } b ? (b + 1).ToString() : null, $"invalid JSON: {e.Message}", e);
            }
        }
        return result;
    }
}
