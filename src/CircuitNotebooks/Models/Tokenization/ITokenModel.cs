namespace CircuitNotebooks.Models;

/// <summary>The part of a tokenizer between added-token splitting and ids: one text segment in, ids out.</summary>
internal interface ITokenModel
{
    int MaxId { get; }
    IEnumerable<(string Token, int Id)> Vocabulary { get; }
    IReadOnlyList<int> EncodeSegment(string segment);
    /// <summary>Decodes a run of consecutive ordinary (non-added) tokens.</summary>
    string DecodeRun(IReadOnlyList<int> ids);
    string? IdToToken(int id);
    /// <summary>What goes between decoded pieces (ordinary runs and added tokens): "" for byte-level, " " for WordLevel.</summary>
    string PieceSeparator { get; }
}
