using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using CircuitNotebooks.Circuits;

namespace CircuitNotebooks.Cli.Options;

/// <summary>How many edges a circuit keeps: a percentage of all real edges ("5%") or a count ("200").</summary>
[JsonConverter(typeof(EdgeBudgetJsonConverter))]
public readonly record struct EdgeBudget(double? Percent, int? Count)
{
    public static EdgeBudget Default => new(5, null);

    public static EdgeBudget Parse(string text, string source = "--edges")
    {
        var t = text.Trim();
        var ic = CultureInfo.InvariantCulture;
        if (t.EndsWith('%'))
        {
            if (double.TryParse(t[..^1], NumberStyles.Float, ic, out var p) && p > 0 && p <= 100) return new(p, null);
            throw Bad(text, source);
        }
        if (int.TryParse(t, NumberStyles.Integer, ic, out var n) && n > 0) return new(null, n);
        throw Bad(text, source);
    }

    private static Infrastructure.CliException Bad(string text, string source) => Infrastructure.CliException.Usage(
        $"{source} must be a percentage in (0%, 100%] such as 5% or a positive edge count such as 200 (got '{text}').");

    /// <summary>This budget as discovery options (a fraction of the real edges, or a count).</summary>
    public DiscoveryOptions ApplyTo(DiscoveryOptions options) =>
        Percent is double p ? options with { EdgeFraction = p / 100, EdgeCount = null } : options with { EdgeCount = Count };

    public override string ToString() => Percent is double p ? p.ToString("R", CultureInfo.InvariantCulture) + "%" : Count!.Value.ToString(CultureInfo.InvariantCulture);
}

internal sealed class EdgeBudgetJsonConverter : JsonConverter<EdgeBudget>
{
    public override EdgeBudget Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => EdgeBudget.Parse(reader.GetString()!, "\"edges\""),
        JsonTokenType.Number when reader.TryGetInt32(out var n) => EdgeBudget.Parse(n.ToString(CultureInfo.InvariantCulture), "\"edges\""),
        _ => throw new JsonException("\"edges\" must be a string such as \"5%\" or an integer edge count."),
    };

    public override void Write(Utf8JsonWriter writer, EdgeBudget value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
