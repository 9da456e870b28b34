namespace CircuitNotebooks;

/// <summary>
/// Notebook display without a notebook dependency: Microsoft.DotNet.Interactive.Formatting looks for an attribute
/// class with exactly this NAME (any namespace, internal is fine) and asks <see cref="FormatterSourceType"/> for
/// formatters. TorchSharp's Tensor uses the same convention. Formatters registered explicitly (the
/// CircuitNotebooks.Interactive package registers richer ones, with charts) take precedence over these defaults.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class TypeFormatterSourceAttribute(Type formatterSourceType) : Attribute
{
    public Type FormatterSourceType { get; } = formatterSourceType;
}
