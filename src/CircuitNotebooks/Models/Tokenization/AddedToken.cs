namespace CircuitNotebooks.Models;

/// <summary>
/// A tokenizer.json added token with HF's matching flags: <see cref="LStrip"/>/<see cref="RStrip"/> swallow the
/// whitespace before/after it, <see cref="SingleWord"/> only matches it between non-word characters, and
/// <see cref="Normalized"/> tokens are matched in normalized text (non-normalized ones in the raw text).
/// </summary>
internal sealed record AddedToken(string Content, int Id, bool Special = true, bool LStrip = false, bool RStrip = false,
    bool SingleWord = false, bool? Normalized = null)
{
    /// <summary>HF's default: special tokens are matched raw, other added tokens after normalization.</summary>
    public bool IsNormalized => Normalized ?? !Special;
}
