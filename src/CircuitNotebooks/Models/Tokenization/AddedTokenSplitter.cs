namespace CircuitNotebooks.Models;

/// <summary>
/// Cuts added/special tokens (e.g. "&lt;|endoftext|&gt;") out of text before the model sees it, matching HF's
/// leftmost-longest rule; the pieces between them go to the token model.
/// </summary>
internal sealed class AddedTokenSplitter(IReadOnlyDictionary<string, int> added)
{
    private readonly string[] _byLength = added.Keys.Where(k => k.Length > 0).OrderByDescending(k => k.Length).ToArray();

    public IEnumerable<(string Text, int? AddedId)> Split(string text)
    {
        int start = 0;
        for (int i = 0; i < text.Length;)
        {
            var hit = _byLength.FirstOrDefault(t => string.CompareOrdinal(text, i, t, 0, t.Length) == 0);
            if (hit is null) { i++; continue; }
            if (i > start) yield return (text[start..i], null);
            yield return (hit, added[hit]);
            i += hit.Length;
            start = i;
        }
        if (start < text.Length) yield return (text[start..], null);
    }
}
