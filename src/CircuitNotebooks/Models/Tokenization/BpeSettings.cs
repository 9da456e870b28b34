namespace CircuitNotebooks.Models;

/// <summary>
/// The tokenizer.json BPE options a model uses. <see cref="ByteLevel"/>: GPT-2 style byte alphabet (set by a
/// ByteLevel pre-tokenizer); otherwise SentencePiece style, where <see cref="ByteFallback"/> spells characters missing
/// from the vocabulary as &lt;0xNN&gt; byte tokens.
/// </summary>
internal sealed record BpeSettings
{
    public bool ByteLevel { get; init; }
    public bool ByteFallback { get; init; }
    public string? UnkToken { get; init; }
    public bool FuseUnk { get; init; }
    /// <summary>Llama 3: a pre-token that is itself in the vocabulary is taken whole, without merges.</summary>
    public bool IgnoreMerges { get; init; }
    /// <summary>Decoding: the character that stands for a space (▁ for SentencePiece style), if any.</summary>
    public string? SpaceReplacement { get; init; }
    /// <summary>Decoding: how many leading spaces to strip from the start of the text (the dummy prefix).</summary>
    public int StripLeadingSpaces { get; init; }
}
