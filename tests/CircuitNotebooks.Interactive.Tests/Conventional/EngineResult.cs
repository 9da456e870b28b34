namespace CircuitNotebooks.Interactive.Tests.Conventional;

// Mirrors what an engine type can do without referencing the Formatting package.
[AttributeUsage(AttributeTargets.Class)]
internal sealed class TypeFormatterSourceAttribute(Type formatterSourceType) : Attribute
{
    public Type FormatterSourceType { get; } = formatterSourceType;
}

[TypeFormatterSource(typeof(EngineResultFormatterSource))]
public sealed record EngineResult(int Value);

[TypeFormatterSource(typeof(EngineResultFormatterSource))]
public sealed record Overridden(int Value);

internal sealed class EngineResultFormatterSource
{
    public IEnumerable<object> CreateTypeFormatters() => [new HtmlFormatter()];

    private sealed class HtmlFormatter
    {
        public string MimeType => "text/html";

        public bool Format(object value, TextWriter writer)
        {
            var v = value switch { EngineResult e => e.Value, Overridden o => o.Value, _ => -1 };
            writer.Write($"<b>engine result {v}</b>");
            return true;
        }
    }
}
