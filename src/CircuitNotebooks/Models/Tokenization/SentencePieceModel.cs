using Microsoft.ML.Tokenizers;

namespace CircuitNotebooks.Models;

/// <summary>
/// A SentencePiece BPE <c>tokenizer.model</c> (Llama 1/2, Mistral): read, normalized (dummy prefix, ▁ for spaces),
/// encoded and decoded entirely by Microsoft.ML.Tokenizers' LlamaTokenizer. Added tokens around it are ours.
/// </summary>
internal sealed class SentencePieceModel : ITokenModel
{
    private readonly LlamaTokenizer _sp;
    private readonly Dictionary<int, string> _idToToken;

    public string Kind => "SentencePiece";
    public int MaxId { get; }
    public string PieceSeparator => "";
    public IEnumerable<(string Token, int Id)> Vocabulary => _sp.Vocabulary.Select(kv => (kv.Key, kv.Value));

    private SentencePieceModel(LlamaTokenizer sp)
    {
        _sp = sp;
        _idToToken = new Dictionary<int, string>();
        foreach (var (k, v) in sp.Vocabulary) _idToToken.TryAdd(v, k);
        MaxId = _idToToken.Count == 0 ? -1 : _idToToken.Keys.Max();
    }

    public static SentencePieceModel Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return new SentencePieceModel(LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false));
        }
        catch (Exception e) when (e is not IOException and not UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: not a SentencePiece BPE model that Microsoft.ML.Tokenizers can read ({e.GetType().Name}: {e.Message}).", e);
        }
    }

    public IReadOnlyList<int> EncodeSegment(string segment, bool atTextStart) =>
        segment.Length == 0 ? [] : _sp.EncodeToIds(segment, addBeginningOfSentence: false, addEndOfSentence: false);

    public string DecodeRun(IReadOnlyList<int> ids, bool atTextStart)
    {
        var text = _sp.Decode(ids);
        // LlamaTokenizer drops the dummy-prefix space of the first token; inside a text that space is real.
        bool dropped = ids.Count > 0 && IdToToken(ids[0]) is { } first && first.StartsWith('\u2581') && !text.StartsWith(' ');
        return !atTextStart && dropped ? " " + text : text;
    }

    public string? IdToToken(int id) => _idToToken.GetValueOrDefault(id);
}
