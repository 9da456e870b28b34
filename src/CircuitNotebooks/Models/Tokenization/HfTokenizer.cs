using System.Text;

namespace CircuitNotebooks.Models;

/// <summary>
/// A Hugging Face tokenizer loaded from a model folder: byte-level BPE (GPT-2, Pythia) or WordLevel, from
/// tokenizer.json or vocab.json + merges.txt. Ids match the HF fast tokenizer for these formats; other formats are
/// refused with <see cref="NotSupportedException"/> rather than approximated.
/// </summary>
public sealed partial class HfTokenizer : ITokenizer
{
    private readonly ITokenModel _model;
    private readonly Dictionary<string, int> _added;
    private readonly Dictionary<int, string> _addedById;
    private readonly AddedTokenSplitter _splitter;
    private readonly bool _nfc;

    public int VocabSize { get; }
    public int? BosId { get; }
    public int? EosId { get; }
    public int? PadId { get; }
    /// <summary>"ByteLevelBPE" or "WordLevel".</summary>
    public string Kind => _model is WordLevelModel ? "WordLevel" : "ByteLevelBPE";

    internal HfTokenizer(ITokenModel model, IReadOnlyDictionary<string, int> added, bool nfc, int? bos, int? eos, int? pad)
    {
        _model = model;
        _added = new Dictionary<string, int>(added, StringComparer.Ordinal);
        _addedById = new Dictionary<int, string>();
        foreach (var (k, v) in _added) _addedById.TryAdd(v, k);
        _splitter = new AddedTokenSplitter(_added);
        _nfc = nfc;
        BosId = bos;
        EosId = eos;
        PadId = pad ?? eos;
        VocabSize = Math.Max(model.MaxId, _added.Count == 0 ? -1 : _added.Values.Max()) + 1;
    }

    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_nfc) text = text.Normalize(NormalizationForm.FormC);
        var ids = new List<int>();
        foreach (var (piece, addedId) in _splitter.Split(text))
        {
            if (addedId is { } id) ids.Add(id);
            else ids.AddRange(_model.EncodeSegment(piece));
        }
        return ids;
    }

    public string Decode(IEnumerable<int> ids)
    {
        var pieces = new List<string>();
        var run = new List<int>();
        void Flush()
        {
            if (run.Count > 0) pieces.Add(_model.DecodeRun(run));
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

    public string TokenToString(int id) => Decode([id]);

    /// <summary>The id of a vocabulary or added token given in its stored form (e.g. "Ġthe"), if any.</summary>
    public int? TokenToId(string token) =>
        _added.TryGetValue(token, out var a) ? a
        : _model.Vocabulary.Where(v => v.Token == token).Select(v => (int?)v.Id).FirstOrDefault();

    /// <summary>The stored form of a token (e.g. "Ġthe"), or null for an unknown id.</summary>
    public string? IdToToken(int id) => _addedById.TryGetValue(id, out var a) ? a : _model.IdToToken(id);
}
