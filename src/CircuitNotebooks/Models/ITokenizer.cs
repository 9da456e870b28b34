namespace CircuitNotebooks.Models;

/// <summary>
/// What the engine needs from a tokenizer. Ids must equal those of the model's reference (Hugging Face) tokenizer,
/// whitespace and Unicode included. Implementations: <c>HfTokenizer</c> (tokenizer.json / vocab.json + merges.txt /
/// SentencePiece tokenizer.model).
/// </summary>
public interface ITokenizer
{
    int VocabSize { get; }
    int? BosId { get; }
    int? EosId { get; }
    /// <summary>Id used to fill padded positions (falls back to EOS, like most HF causal LMs).</summary>
    int? PadId { get; }
    /// <summary>Encodes text without adding BOS/EOS.</summary>
    IReadOnlyList<int> Encode(string text);
    string Decode(IEnumerable<int> ids);
    /// <summary>The surface string of one token (for axis labels: "ĠParis" shown as " Paris").</summary>
    string TokenToString(int id);
}
