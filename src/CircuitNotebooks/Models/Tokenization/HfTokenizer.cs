namespace CircuitNotebooks.Models;

/// <summary>
/// A Hugging Face tokenizer loaded from a model folder: tokenizer.json (byte-level BPE as in GPT-2/Pythia/Llama 3/Qwen2,
/// SentencePiece-style BPE with byte fallback as in Llama 2/Mistral, WordLevel), vocab.json + merges.txt, or a
/// SentencePiece tokenizer.model. Ids match the HF fast tokenizer for these formats; other formats are refused with
/// <see cref="NotSupportedException"/> rather than approximated.
/// </summary>
public sealed partial class HfTokenizer : ITokenizer
{
    private readonly ITokenModel _model;
    private readonly Dictionary<string, int> _added;
    private readonly Dictionary<int, string> _addedById;
    private readonly AddedTokenSplitter _rawSplitter;
    private readonly AddedTokenSplitter _normalizedSplitter;
    private readonly TextNormalizer _normalizer;

    public int VocabSize { get; }
    public int? BosId { get; }
    public int? EosId { get; }
    public int? PadId { get; }
    /// <summary>"ByteLevelBPE", "BPE" (SentencePiece-style: tokenizer.json with byte fallback, or tokenizer.model) or "WordLevel".</summary>
    public string Kind => _model.Kind;

    internal HfTokenizer(ITokenModel model, IReadOnlyList<AddedToken> added, TextNormalizer normalizer, int? bos, int? eos, int? pad)
    {
        _model = model;
        _normalizer = normalizer;
        _added = new Dictionary<string, int>(StringComparer.Ordinal);
        _addedById = new Dictionary<int, string>();
        foreach (var t in added)
        {
            _added.TryAdd(t.Content, t.Id);
            _addedById.TryAdd(t.Id, t.Content);
        }
        // Like HF: normalized added tokens are looked for in normalized text, in their normalized spelling.
        bool Normalized(AddedToken t) => t.IsNormalized && !normalizer.IsIdentity;
        _rawSplitter = new AddedTokenSplitter(added.Where(t => !Normalized(t)));
        _normalizedSplitter = new AddedTokenSplitter(added.Where(Normalized).Select(t => t with { Content = normalizer.Normalize(t.Content) }));
        BosId = bos;
        EosId = eos;
        PadId = pad ?? eos;
        VocabSize = Math.Max(model.MaxId, added.Count == 0 ? -1 : added.Max(t => t.Id)) + 1;
    }

    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        foreach (var (raw, rawStart, addedId) in _rawSplitter.Split(text))
        {
            if (addedId is { } id) { ids.Add(id); continue; }
            foreach (var (piece, start, normalizedAddedId) in _normalizedSplitter.Split(_normalizer.Normalize(raw)))
            {
                if (normalizedAddedId is { } nid) ids.Add(nid);
                else ids.AddRange(_model.EncodeSegment(piece, atTextStart: rawStart == 0 && start == 0));
            }
        }
        return ids;
    }

    public string Decode(IEnumerable<int> ids)
    {
        var pieces = new List<string>();
        var run = new List<int>();
        void Flush()
        {
            if (run.Count > 0) pieces.Add(_model.DecodeRun(run, atTextStart: pieces.Count == 0));
            run.Clear();
        }
        foreach (var id in ids)
        {
            if (_addedById.TryGetValue(id, out var content)) { Flush(); pieces.Add(content); }
            else run.Add(id);
        }
        Flush();
        return string.Join(_model.PieceSeparator, pieces);
    }

    /// <summary>The surface string of one token: its text with the dummy-prefix space kept (" Paris", not "Paris").</summary>
    public string TokenToString(int id) =>
        _addedById.TryGetValue(id, out var a) ? a : _model.DecodeRun([id], atTextStart: false);

    /// <summary>The id of a vocabulary or added token given in its stored form (e.g. "Ġthe", "▁the"), if any.</summary>
    public int? TokenToId(string token) =>
        _added.TryGetValue(token, out var a) ? a
        : _model.Vocabulary.Where(v => v.Token == token).Select(v => (int?)v.Id).FirstOrDefault();

    /// <summary>The stored form of a token (e.g. "Ġthe"), or null for an unknown id.</summary>
    public string? IdToToken(int id) => _addedById.TryGetValue(id, out var a) ? a : _model.IdToToken(id);
}
