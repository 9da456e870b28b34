using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace CircuitNotebooks.Models;

/// <summary>
/// tokenizer.json BPE: GPT-2/NeoX/Llama-3/Qwen2 byte-level BPE and SentencePiece-style BPE (Llama 2, Mistral) with
/// byte fallback. Pre-tokenization is ours (<see cref="PreTokenizerPipeline"/>); merging each pre-token is done by
/// Microsoft.ML.Tokenizers' BpeTokenizer. Hand-written on top, because BpeTokenizer lacks them: ignore_merges, and
/// byte_fallback / fuse_unk (BpeTokenizer reports an unknown code point as one token whose offset we re-spell).
/// </summary>
internal sealed class BpeModel : ITokenModel
{
    private readonly BpeTokenizer _bpe;
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<int, string> _idToToken;
    private readonly PreTokenizerPipeline _pre;
    private readonly BpeSettings _settings;
    private readonly int? _unkId;
    private readonly int[]? _byteIds;
    /// <summary>Stands in for the unknown token inside BpeTokenizer so real "&lt;unk&gt;" ids are never ambiguous.</summary>
    private readonly int _unknownMarker;
    private const string UnknownMarker = "\uFFFF<unknown>\uFFFF";

    public string Kind => _settings.ByteLevel ? "ByteLevelBPE" : "BPE";
    public int MaxId { get; }
    public string PieceSeparator => "";
    public IEnumerable<(string Token, int Id)> Vocabulary => _vocab.Select(kv => (kv.Key, kv.Value));

    public BpeModel(IReadOnlyDictionary<string, int> vocab, IEnumerable<(string A, string B)> merges, PreTokenizerPipeline pre,
        BpeSettings settings, string source)
    {
        _vocab = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        _idToToken = new Dictionary<int, string>();
        foreach (var (k, v) in _vocab) _idToToken.TryAdd(v, k);
        _pre = pre;
        _settings = settings;
        MaxId = _vocab.Count == 0 ? -1 : _vocab.Values.Max();
        var mergeList = new List<string>();
        foreach (var (a, b) in merges)
        {
            // BpeTokenizer takes merges as "a b" lines, so a space inside a token cannot be expressed.
            if (a.Contains(' ') || b.Contains(' '))
                throw new NotSupportedException($"{source}: merge ('{a}', '{b}') contains a literal space, which this BPE cannot represent.");
            if (!_vocab.ContainsKey(a) || !_vocab.ContainsKey(b) || !_vocab.ContainsKey(a + b))
                throw new InvalidDataException($"{source}: merge ('{a}', '{b}') uses or makes a token missing from model.vocab.");
            mergeList.Add($"{a} {b}");
        }
        if (settings.UnkToken is { } unk)
            _unkId = _vocab.TryGetValue(unk, out var u) ? u : throw new InvalidDataException($"{source}: model.unk_token '{unk}' is not in model.vocab.");
        if (settings.ByteLevel)
        {
            // Every byte must be representable, or some inputs would have no encoding at all.
            var missing = Enumerable.Range(0, 256).Where(b => !_vocab.ContainsKey(ByteLevelAlphabet.Encode((byte)b).ToString())).ToList();
            if (missing.Count > 0)
                throw new InvalidDataException($"{source}: byte-level vocabulary lacks {missing.Count} of the 256 byte tokens (e.g. byte 0x{missing[0]:X2}).");
        }
        else if (settings.ByteFallback)
        {
            var ids = Enumerable.Range(0, 256).Select(b => _vocab.TryGetValue($"<0x{b:X2}>", out var id) ? id : -1).ToArray();
            _byteIds = ids.All(i => i >= 0) ? ids : null; // HF falls back to unk for a character whose bytes are not all present
        }
        _unknownMarker = MaxId + 1;
        var mlVocab = new Dictionary<string, int>(_vocab, StringComparer.Ordinal) { [UnknownMarker] = _unknownMarker };
        _bpe = BpeTokenizer.Create(new BpeOptions(mlVocab)
        {
            Merges = mergeList,
            PreTokenizer = WholeText.Instance,
            ByteLevel = settings.ByteLevel,
            UnknownToken = settings.ByteLevel ? null : UnknownMarker,
            FuseUnknownTokens = false,
        });
    }

    public IReadOnlyList<int> EncodeSegment(string segment, bool atTextStart)
    {
        var ids = new List<int>();
        foreach (var word in _pre.Split(segment, atTextStart)) EncodeWord(word, ids);
        return ids;
    }

    private void EncodeWord(string word, List<int> ids)
    {
        if (_settings.IgnoreMerges && _vocab.TryGetValue(_settings.ByteLevel ? ByteLevelAlphabet.Encode(Encoding.UTF8.GetBytes(word)) : word, out var whole))
        {
            ids.Add(whole);
            return;
        }
        if (_settings.ByteLevel) { ids.AddRange(_bpe.EncodeToIds(word)); return; }
        bool lastWasUnk = false;
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var t in _bpe.EncodeToTokens(word, out _))
        {
            if (t.Id != _unknownMarker) { ids.Add(t.Id); lastWasUnk = false; continue; }
            var unknown = word[t.Offset];
            foreach (var rune in unknown.EnumerateRunes())
            {
                if (_byteIds is not null)
                {
                    int n = rune.EncodeToUtf8(utf8);
                    for (int i = 0; i < n; i++) ids.Add(_byteIds[utf8[i]]);
                    lastWasUnk = false;
                }
                else if (_unkId is { } unk)
                {
                    if (!(_settings.FuseUnk && lastWasUnk)) ids.Add(unk);
                    lastWasUnk = true;
                }
                else throw new ArgumentException($"character '{rune}' (U+{rune.Value:X4}) is not in the vocabulary and the tokenizer has no unk_token or byte fallback.");
            }
        }
    }

    public string DecodeRun(IReadOnlyList<int> ids, bool atTextStart)
    {
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            var tok = IdToToken(id) ?? throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is not in the vocabulary");
            if (_settings.ByteLevel && ByteLevelAlphabet.TryDecode(tok, bytes)) continue;
            if (!_settings.ByteLevel && _settings.ByteFallback && IsByteToken(tok, out var b)) { bytes.Add(b); continue; }
            bytes.AddRange(Encoding.UTF8.GetBytes(_settings.SpaceReplacement is { } r ? tok.Replace(r, " ") : tok));
        }
        // Like HF (errors="replace"): a token run that splits a UTF-8 sequence decodes to U+FFFD.
        var text = Encoding.UTF8.GetString(bytes.ToArray());
        for (int i = 0; atTextStart && i < _settings.StripLeadingSpaces && text.StartsWith(' '); i++) text = text[1..];
        return text;
    }

    private static bool IsByteToken(string tok, out byte value)
    {
        value = 0;
        return tok.Length == 6 && tok.StartsWith("<0x", StringComparison.Ordinal) && tok[5] == '>'
            && byte.TryParse(tok.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
    }

    public string? IdToToken(int id) => _idToToken.GetValueOrDefault(id);

    /// <summary>Hands BpeTokenizer each pre-token whole; its default would split words again.</summary>
    private sealed class WholeText : PreTokenizer
    {
        public static readonly WholeText Instance = new();
        public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => text.Length == 0 ? [] : [(0, text.Length)];
        public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => text.Length == 0 ? [] : [(0, text.Length)];
    }
}
