using System.Text;
using System.Text.RegularExpressions;

namespace CircuitNotebooks.Models;

/// <summary>
/// An HF normalizer chain (NFC/NFD/NFKC/NFKD, Lowercase, Prepend, Replace, Strip, Sequence) as one string function.
/// Hand-written: Microsoft.ML.Tokenizers only has lower/upper-case and a fixed SentencePiece normalizer, which cannot
/// express an arbitrary Sequence of Prepend/Replace steps.
/// </summary>
internal sealed class TextNormalizer(IReadOnlyList<Func<string, string>> steps)
{
    public static readonly TextNormalizer Identity = new([]);

    public bool IsIdentity => steps.Count == 0;

    public string Normalize(string text)
    {
        foreach (var s in steps) text = s(text);
        return text;
    }

    public static Func<string, string> Unicode(NormalizationForm form) => t => t.Normalize(form);

    /// <summary>HF Prepend adds its text to every non-empty piece (so after each added token too).</summary>
    public static Func<string, string> Prepend(string prefix) => t => t.Length == 0 ? t : prefix + t;

    public static Func<string, string> ReplaceLiteral(string pattern, string content) => t => t.Replace(pattern, content, StringComparison.Ordinal);

    public static Func<string, string> ReplaceRegex(string pattern, string content)
    {
        var re = new Regex(pattern, RegexOptions.CultureInvariant);
        return t => re.Replace(t, content.Replace("$", "$$"));
    }

    public static Func<string, string> Strip(bool left, bool right) => t => (left, right) switch
    {
        (true, true) => t.Trim(),
        (true, false) => t.TrimStart(),
        (false, true) => t.TrimEnd(),
        _ => t,
    };

    public static Func<string, string> Lowercase() => t => t.ToLowerInvariant();
}
