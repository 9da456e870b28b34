using System.Text.Json;
using System.Text.Json.Nodes;

namespace CircuitNotebooks.Models;

/// <summary>
/// Typed access to a JSON object read from a named file: every failure names the file and the field, and says what
/// was expected and what was found.
/// </summary>
internal sealed class JsonFields(JsonObject obj, string source)
{
    public string Source => source;
    public JsonObject Object => obj;

    public static JsonFields Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found.", path);
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e); }
        return node is JsonObject o ? new JsonFields(o, path) : throw new InvalidDataException($"{path}: top level must be a JSON object.");
    }

    public bool Has(string field) => obj[field] is not null;

    private InvalidDataException Wrong(string field, string expected, JsonNode? got) =>
        new($"{source}: field '{field}' must be {expected} (got {got?.ToJsonString() ?? "null"}).");

    public int Int(string field) => OptInt(field) ?? throw new InvalidDataException($"{source}: required field '{field}' is missing.");

    public int? OptInt(string field)
    {
        var n = obj[field];
        if (n is null) return null;
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i)) return i;
        if (n is JsonValue d && d.GetValueKind() == JsonValueKind.Number && d.TryGetValue<double>(out var x) && x == Math.Floor(x) && Math.Abs(x) <= int.MaxValue)
            return (int)x;
        throw Wrong(field, "an integer", n);
    }

    public double Double(string field, double? fallback = null) =>
        OptDouble(field) ?? fallback ?? throw new InvalidDataException($"{source}: required field '{field}' is missing.");

    public double? OptDouble(string field)
    {
        var n = obj[field];
        if (n is null) return null;
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d)) return d;
        throw Wrong(field, "a number", n);
    }

    public bool Bool(string field, bool fallback)
    {
        var n = obj[field];
        if (n is null) return fallback;
        if (n is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return v.GetValue<bool>();
        throw Wrong(field, "true or false", n);
    }

    public string? OptString(string field)
    {
        var n = obj[field];
        if (n is null) return null;
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.String) return v.GetValue<string>();
        throw Wrong(field, "a string", n);
    }

    public string String(string field, string? fallback = null) =>
        OptString(field) ?? fallback ?? throw new InvalidDataException($"{source}: required field '{field}' is missing.");
}
