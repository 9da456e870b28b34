namespace CircuitNotebooks.Models;

/// <summary>The part of a tokenizer between added-token splitting/normalization and ids: one text segment in, ids out.</summary>
internal interface ITokenModel
{
    /// <summary>"ByteLevelBPE", "BPE" (SentencePiece-style, from tokenizer.json or tokenizer.model) or "WordLevel".</summary>
    string Kind { get; }
    int MaxId { get; }
    IEnumerable<(string Token, int Id)> Vocabulary { get; }
    /// <summary>Ids of one normalized segment; <paramref name="atTextStart"/>: it begins at offset 0 of the original text.</summary>
    IReadOnlyList<int> EncodeSegment(string segment, bool atTextStart);
    /// <summary>Decodes a run of consecutive ordinary (non-added) tokens; <paramref name="atTextStart"/>: nothing precedes it.</summary>
    string DecodeRun(IReadOnlyList<int> ids, bool atTextStart);
    string? IdToToken(int id);
    /// <summary>What goes between decoded pieces (ordinary runs and added tokens): "" for BPE, " " for WordLevel.</summary>
    string PieceSeparator { get; }
}
