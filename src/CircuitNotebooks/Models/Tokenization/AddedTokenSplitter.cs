namespace CircuitNotebooks.Models;

/// <summary>
/// Cuts added/special tokens (e.g. "&lt;|endoftext|&gt;") out of text before the model sees it, like HF's added
/// vocabulary: leftmost-longest matches, scanning resumes after a match even when its single_word check rejects it,
/// and lstrip/rstrip take the neighbouring whitespace into the token.
/// </summary>
internal sealed class AddedTokenSplitter
{
    /// <summary>Candidates by first character, longest first (Llama 3 and Qwen2 have hundreds of added tokens).</summary>
    private readonly Dictionary<char, AddedToken[]> _byFirstChar;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens) =>
        _byFirstChar = tokens.Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content, StringComparer.Ordinal).Select(g => g.First())
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());

    /// <summary>Pieces in order: ordinary text (AddedId null) with its start offset in <paramref name="text"/>, or an added token.</summary>
    public IEnumerable<(string Text, int Start, int? AddedId)> Split(string text)
    {
        var result = new List<(string, int, int?)>();
        int emitted = 0; // end of the last piece produced
        for (int i = 0; i < text.Length;)
        {
            var hit = _byFirstChar.TryGetValue(text[i], out var candidates)
                ? candidates.FirstOrDefault(t => string.CompareOrdinal(text, i, t.Content, 0, t.Content.Length) == 0)
                : null;
            if (hit is null) { i++; continue; }
            int start = i, stop = i + hit.Content.Length;
            i = stop;
            if (hit.SingleWord && ((start > 0 && IsWordChar(text, start - 1)) || (stop < text.Length && IsWordChar(text, stop)))) continue;
            if (hit.LStrip) while (start > emitted && char.IsWhiteSpace(text[start - 1])) start--;
            if (hit.RStrip) while (stop < text.Length && char.IsWhiteSpace(text[stop])) stop++;
            if (start > emitted) result.Add((text[emitted..start], emitted, null));
            result.Add((text[start..stop], start, hit.Id));
            emitted = i = stop;
        }
        if (emitted < text.Length) result.Add((text[emitted..], emitted, null));
        return result;
    }

    private static bool IsWordChar(string s, int i) => char.IsLetterOrDigit(s[i]) || s[i] == '_';
}
