namespace CircuitNotebooks.Interactive.Formatting;

/// <summary>
/// A formatter for one type and MIME type. Implementations with a public parameterless constructor in this assembly
/// (or in assemblies passed to <see cref="NotebookKit.Register"/>) are discovered and registered automatically; this
/// is how engine types get notebook output without the engine referencing any notebook package.
/// </summary>
public interface INotebookFormatter
{
    /// <summary>The formatted type; subclasses and implementations are covered too.</summary>
    Type Type { get; }

    /// <summary>"text/html" or "text/plain".</summary>
    string MimeType { get; }

    /// <summary>Writes <paramref name="value"/>; false means "not mine", letting another formatter try.</summary>
    bool Format(object value, TextWriter writer);
}

/// <summary>Typed base class: override <see cref="Format(T, TextWriter)"/>.</summary>
public abstract class NotebookFormatter<T> : INotebookFormatter
{
    public Type Type => typeof(T);

    public virtual string MimeType => "text/html";

    public bool Format(object value, TextWriter writer) => value is T typed && Format(typed, writer);

    protected abstract bool Format(T value, TextWriter writer);
}

/// <summary>A formatter from a delegate, for <see cref="NotebookKit.RegisterHtml{T}"/>.</summary>
public sealed class DelegateFormatter<T>(Func<T, string> render, string mimeType = "text/html") : NotebookFormatter<T>
{
    public override string MimeType => mimeType;

    protected override bool Format(T value, TextWriter writer)
    {
        writer.Write(render(value));
        return true;
    }
}
