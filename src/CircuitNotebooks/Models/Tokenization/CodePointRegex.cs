using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace CircuitNotebooks.Models;

/// <summary>
/// A pre-tokenizer regex evaluated per Unicode code point, as the Rust tokenizers (Oniguruma) do. .NET's Regex sees
/// UTF-16 units, so an emoji or astral letter would be two "characters" of category Cs and patterns such as Llama 3's
/// <c>[^\r\n\p{L}\p{N}]?\p{L}+</c> would cut it in half. Hand-written (Microsoft.ML.Tokenizers' RegexPreTokenizer has
/// the same UTF-16 behaviour): each astral code point is replaced by a BMP stand-in of the same general category, the
/// pattern runs on that, and match positions are mapped back.
/// </summary>
internal sealed class CodePointRegex(string pattern)
{
    private static readonly Dictionary<UnicodeCategory, char> StandIns = BuildStandIns();
    private readonly Regex _regex = new(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);

    public string Pattern => pattern;

    /// <summary>Non-ASCII, non-space BMP characters, one per category; never confused with a pattern's ASCII literals.</summary>
    private static Dictionary<UnicodeCategory, char> BuildStandIns()
    {
        var map = new Dictionary<UnicodeCategory, char>();
        for (int c = 0xA1; c <= 0xFFFD; c++)
        {
            if (char.IsSurrogate((char)c) || char.IsWhiteSpace((char)c)) continue;
            map.TryAdd(char.GetUnicodeCategory((char)c), (char)c);
        }
        return map;
    }

    /// <summary>(start, length) of every match, in UTF-16 units of <paramref name="text"/>.</summary>
    public IEnumerable<(int Start, int Length)> Matches(string text)
    {
        if (!text.Any(char.IsSurrogate))
        {
            foreach (Match m in _regex.Matches(text)) if (m.Length > 0) yield return (m.Index, m.Length);
            yield break;
        }
        var mapped = new StringBuilder(text.Length);
        var origin = new List<int>(text.Length + 1); // origin[i] = index in text of mapped[i]
        for (int i = 0; i < text.Length; i++)
        {
            origin.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                mapped.Append(StandIns.GetValueOrDefault(CharUnicodeInfo.GetUnicodeCategory(text, i), '\uE000'));
                i++;
            }
            else mapped.Append(text[i]);
        }
        origin.Add(text.Length);
        foreach (Match m in _regex.Matches(mapped.ToString()))
            if (m.Length > 0) yield return (origin[m.Index], origin[m.Index + m.Length] - origin[m.Index]);
    }
}
