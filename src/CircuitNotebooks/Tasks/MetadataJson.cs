using System.Text.Encodings.Web;
using System.Text.Json;

namespace CircuitNotebooks.Tasks;

/// <summary>Metadata ⇄ JSON object with string values; keys written in ordinal order so files are reproducible.</summary>
internal static class MetadataJson
{
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // keep Unicode readable; quotes/controls still escaped
        Indented = false,
    };

    public static void Write(Utf8JsonWriter w, IReadOnlyDictionary<string, string> metadata)
    {
        w.WriteStartObject();
        foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
        w.WriteEndObject();
    }

    public static string ToJson(IReadOnlyDictionary<string, string> metadata)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, WriterOptions)) Write(w, metadata);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>Reads an object whose values are strings (numbers and booleans are kept as their JSON text).</summary>
    public static Dictionary<string, string> Read(JsonElement e, Func<string, Exception> error)
    {
        if (e.ValueKind != JsonValueKind.Object) throw error($"metadata must be a JSON object, found {e.ValueKind}");
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
            d[p.Name] = p.Value.ValueKind switch
            {
                JsonValueKind.String => p.Value.GetString()!,
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => p.Value.GetRawText(),
                var k => throw error($"metadata value \"{p.Name}\" must be a string, found {k}"),
            };
        return d;
    }
}
