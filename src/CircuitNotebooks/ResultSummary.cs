using System.Net;
using System.Text;

namespace CircuitNotebooks;

/// <summary>
/// A title and ordered facts describing a model or a result: what a notebook shows by default, what a console app
/// prints, and the header the notebook layer puts above its charts. Lives at the engine root so every pipeline folder
/// can use it.
/// </summary>
public sealed record ResultSummary(string Title, IReadOnlyList<KeyValuePair<string, string>> Facts)
{
    public static ResultSummaryBuilder Create(string title) => new(title);

    /// <summary>The value of a fact by name (null when absent).</summary>
    public string? this[string name] => Facts.FirstOrDefault(f => f.Key == name).Value;

    /// <summary>"Title" then one "  key: value" line per fact.</summary>
    public string ToText()
    {
        var sb = new StringBuilder(Title);
        foreach (var (k, v) in Facts) sb.Append('\n').Append("  ").Append(k).Append(": ").Append(v);
        return sb.ToString();
    }

    /// <summary>A small two-column HTML table (values encoded) with the title as caption.</summary>
    public string ToHtml()
    {
        var sb = new StringBuilder("<table class=\"cn-table cn-summary\"><caption>");
        sb.Append(WebUtility.HtmlEncode(Title)).Append("</caption><tbody>");
        foreach (var (k, v) in Facts)
            sb.Append("<tr><th>").Append(WebUtility.HtmlEncode(k)).Append("</th><td>").Append(WebUtility.HtmlEncode(v)).Append("</td></tr>");
        return sb.Append("</tbody></table>").ToString();
    }

    public override string ToString() => ToText();
}

/// <summary>Collects facts in order; numbers are written with the invariant culture.</summary>
public sealed class ResultSummaryBuilder(string title)
{
    private readonly List<KeyValuePair<string, string>> _facts = [];

    public ResultSummaryBuilder Add(string name, string? value)
    {
        if (value is not null) _facts.Add(KeyValuePair.Create(name, value));
        return this;
    }

    public ResultSummaryBuilder Add(string name, long value) => Add(name, value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Adds a real number with 4 significant digits (NaN is shown as "n/a").</summary>
    public ResultSummaryBuilder Add(string name, double value) =>
        Add(name, double.IsNaN(value) ? "n/a" : value.ToString("G4", System.Globalization.CultureInfo.InvariantCulture));

    public ResultSummaryBuilder Add(string name, double? value) => value is double v ? Add(name, v) : this;

    public ResultSummary Build() => new(title, _facts.ToArray());
}

/// <summary>Types that can describe themselves as a <see cref="ResultSummary"/>.</summary>
public interface ISummarizable
{
    ResultSummary Summarize();
}

/// <summary>
/// The default notebook formatters of every engine type marked <c>[TypeFormatterSource(typeof(SummaryFormatterSource))]</c>:
/// its <see cref="ResultSummary"/> as an HTML table and as plain text.
/// </summary>
internal sealed class SummaryFormatterSource
{
    public IEnumerable<object> CreateTypeFormatters() => [new Formatter("text/html"), new Formatter("text/plain")];

    internal sealed class Formatter(string mimeType)
    {
        public string MimeType { get; } = mimeType;

        public bool Format(object value, TextWriter writer)
        {
            if (value is not ISummarizable s) return false;
            var summary = s.Summarize();
            writer.Write(MimeType == "text/html" ? summary.ToHtml() : summary.ToText());
            return true;
        }
    }
}
