namespace CircuitNotebooks.Interactive.Html;

/// <summary>Trusted, already-rendered HTML. Displaying one writes it verbatim (a string would be escaped).</summary>
public sealed record HtmlFragment(string Html)
{
    public override string ToString() => Html;
}
