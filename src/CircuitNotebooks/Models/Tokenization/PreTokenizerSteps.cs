namespace CircuitNotebooks.Models;

/// <summary>
/// One HF pre-tokenizer: cuts a piece of (normalized) text into smaller pieces. <c>atTextStart</c> says whether the
/// piece begins at offset 0 of the original text (Metaspace's prepend_scheme "first" needs it).
/// Hand-written: Microsoft.ML.Tokenizers has no Split behaviours, Metaspace or Sequence pre-tokenizers.
/// </summary>
internal interface IPreTokenizerStep
{
    IEnumerable<string> Split(string piece, bool atTextStart);
}

/// <summary>HF Split's SplitDelimiterBehavior: what happens to the text a pattern matched.</summary>
internal enum DelimiterBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

/// <summary>HF "Split": a pattern's matches (or, inverted, the text between them) become delimiters.</summary>
internal sealed class SplitStep(Func<string, IEnumerable<(int Start, int Length)>> matches, DelimiterBehavior behavior, bool invert) : IPreTokenizerStep
{
    public IEnumerable<string> Split(string piece, bool atTextStart)
    {
        // Cover the piece with (text, isDelimiter) spans in order.
        var spans = new List<(string Text, bool Delim)>();
        int pos = 0;
        foreach (var (s, l) in matches(piece))
        {
            if (s > pos) spans.Add((piece[pos..s], invert));
            spans.Add((piece.Substring(s, l), !invert));
            pos = s + l;
        }
        if (pos < piece.Length) spans.Add((piece[pos..], invert));

        return behavior switch
        {
            DelimiterBehavior.Removed => spans.Where(x => !x.Delim).Select(x => x.Text).ToList(),
            DelimiterBehavior.Isolated => spans.Select(x => x.Text).ToList(),
            DelimiterBehavior.MergedWithPrevious => Merge(spans, (prev, cur) => cur.Delim && !prev.Delim),
            // Like HF: walk backwards so a delimiter joins the piece after it unless that piece is a delimiter too.
            DelimiterBehavior.MergedWithNext => Merge(Enumerable.Reverse(spans).ToList(), (prev, cur) => cur.Delim && !prev.Delim, reverse: true),
            DelimiterBehavior.Contiguous => Merge(spans, (prev, cur) => cur.Delim && prev.Delim),
            _ => throw new ArgumentOutOfRangeException(nameof(behavior)),
        };
    }

    /// <summary>Joins a span onto the previous output piece when <paramref name="join"/> says so (previous span, this span).</summary>
    private static List<string> Merge(List<(string Text, bool Delim)> spans, Func<(string Text, bool Delim), (string Text, bool Delim), bool> join, bool reverse = false)
    {
        var result = new List<string>();
        (string Text, bool Delim)? prev = null;
        foreach (var span in spans)
        {
            if (prev is { } p && result.Count > 0 && join(p, span)) result[^1] = reverse ? span.Text + result[^1] : result[^1] + span.Text;
            else result.Add(span.Text);
            prev = span;
        }
        if (reverse) result.Reverse();
        return result;
    }
}

/// <summary>HF "ByteLevel" pre-tokenizer: optional prefix space, then the GPT-2 regex. Bytes are mapped later by the BPE.</summary>
internal sealed class ByteLevelStep(bool addPrefixSpace, bool useRegex) : IPreTokenizerStep
{
    /// <summary>The GPT-2 pattern (also the HF ByteLevel pre-tokenizer's default).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private static readonly SplitStep Gpt2 = new(new CodePointRegex(Gpt2Pattern).Matches, DelimiterBehavior.Isolated, false);

    public IEnumerable<string> Split(string piece, bool atTextStart)
    {
        if (addPrefixSpace && !piece.StartsWith(' ')) piece = " " + piece;
        return useRegex ? Gpt2.Split(piece, atTextStart) : [piece];
    }
}

/// <summary>HF "Metaspace": spaces become the replacement (▁), a leading one is prepended, optionally split before each ▁.</summary>
internal sealed class MetaspaceStep(string replacement, MetaspacePrepend prepend, bool split) : IPreTokenizerStep
{
    public IEnumerable<string> Split(string piece, bool atTextStart)
    {
        piece = piece.Replace(" ", replacement);
        if (!piece.StartsWith(replacement) && (prepend == MetaspacePrepend.Always || (prepend == MetaspacePrepend.First && atTextStart)))
            piece = replacement + piece;
        if (!split) return [piece];
        var parts = new List<string>();
        int start = 0;
        for (int i = piece.IndexOf(replacement, 1, StringComparison.Ordinal); i > 0; i = piece.IndexOf(replacement, i + replacement.Length, StringComparison.Ordinal))
        {
            parts.Add(piece[start..i]);
            start = i;
        }
        parts.Add(piece[start..]);
        return parts.Where(p => p.Length > 0);
    }
}

internal enum MetaspacePrepend { Always, First, Never }

/// <summary>HF pre-tokenizer "Sequence" (or a single step): each step applies to every piece the previous ones made.</summary>
internal sealed class PreTokenizerPipeline(IReadOnlyList<IPreTokenizerStep> steps)
{
    public static readonly PreTokenizerPipeline None = new([]);

    public IEnumerable<string> Split(string text, bool atTextStart)
    {
        IEnumerable<string> pieces = [text];
        foreach (var step in steps)
        {
            var s = step;
            pieces = pieces.SelectMany((p, i) => s.Split(p, atTextStart && i == 0)).ToList();
        }
        return pieces.Where(p => p.Length > 0);
    }
}
