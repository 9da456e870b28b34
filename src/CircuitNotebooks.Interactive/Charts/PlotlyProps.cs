using System.Text.Json;
using System.Text.Json.Nodes;

namespace CircuitNotebooks.Interactive.Charts;

/// <summary>Small builders for plotly.js JSON (attribute names as in the plotly.js reference).</summary>
internal static class PlotlyProps
{
    /// <summary>Any object (anonymous types included) as JSON.</summary>
    public static JsonNode? Node(object? value) => value is JsonNode n ? n : JsonSerializer.SerializeToNode(value);

    /// <summary>Numbers with non-finite values as null, which plotly draws as a gap or blank cell (NaN is not JSON).</summary>
    public static JsonArray Numbers(IEnumerable<double> values) =>
        new(values.Select(v => double.IsFinite(v) ? JsonValue.Create(v) : null).ToArray<JsonNode?>());

    public static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    /// <summary>Rows of numbers (heatmap z), non-finite as null.</summary>
    public static JsonArray Matrix(double[,] values)
    {
        var rows = new JsonArray();
        for (var r = 0; r < values.GetLength(0); r++)
            rows.Add(Numbers(Enumerable.Range(0, values.GetLength(1)).Select(c => values[r, c])));
        return rows;
    }

    /// <summary>A colour scale: [[position, colour], …].</summary>
    public static JsonArray ColorScale(params (double At, string Color)[] stops) =>
        new(stops.Select(s => (JsonNode?)new JsonArray(s.At, s.Color)).ToArray());

    /// <summary>The axis object (e.g. "xaxis", "yaxis2"), created when the layout has none yet.</summary>
    public static JsonObject Axis(JsonObject layout, string name)
    {
        if (layout[name] is JsonObject existing) return existing;
        var axis = new JsonObject();
        layout[name] = axis;
        return axis;
    }

    public static void Titles(JsonObject layout, string? title, string? xTitle, string? yTitle, string xAxis = "xaxis", string yAxis = "yaxis")
    {
        if (title != null) layout["title"] = new JsonObject { ["text"] = title, ["x"] = 0.02 };
        if (xTitle != null) Axis(layout, xAxis)["title"] = new JsonObject { ["text"] = xTitle };
        if (yTitle != null) Axis(layout, yAxis)["title"] = new JsonObject { ["text"] = yTitle };
    }

    /// <summary>At least <paramref name="width"/>, widened (up to 1100 px) so a title of ~8 px per character is not cut off.</summary>
    public static int FitTitle(int width, string? title) =>
        title is null ? width : Math.Max(width, Math.Min(1100, 120 + 8 * title.Length));

    public static void Size(JsonObject layout, int width, int height)
    {
        layout["width"] = width;
        layout["height"] = height;
    }
}
