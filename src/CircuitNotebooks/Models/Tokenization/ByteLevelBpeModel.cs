using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace CircuitNotebooks.Models;

/// <summary>
/// Byte-level BPE as in GPT-2 / GPT-NeoX: GPT-2 pre-tokenization regex, bytes mapped through
/// <see cref="ByteLevelAlphabet"/>, then merges by rank. Merging is done by Microsoft.ML.Tokenizers' BpeTokenizer.
/// </summary>
internal sealed class ByteLevelBpeModel : ITokenModel
{
    /// <summary>The GPT-2 pattern (also the HF ByteLevel pre-tokenizer's default).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly BpeTokenizer _bpe;
    private readonly Dictionary<int, string> _idToToken;
    private readonly bool _addPrefixSpace;

    public int MaxId { get; }
    public string PieceSeparator => "";
    public IEnumerable<(string Token, int Id)> Vocabulary => _idToToken.Select(kv => (kv.Value, kv.Key));

    public ByteLevelBpeModel(IReadOnlyDictionary<string, int> vocab, IEnumerable<(string A, string B)> merges, bool addPrefixSpace, string source)
    {
        var mergeList = new List<string>();
        foreach (var (a, b) in merges)
        {
            if (a.Contains(' ') || b.Contains(' '))
                throw new InvalidDataException($"{source}: merge ('{a}', '{b}') contains a literal space, impossible in byte-level BPE.");
            mergeList.Add($"{a} {b}");
        }
        _bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = mergeList,
            PreTokenizer = new RegexPreTokenizer(new Regex(Gpt2Pattern, RegexOptions.Compiled), null),
            ByteLevel = true,
        });
        _idToToken = vocab.ToDictionary(kv => kv.Value, kv => kv.Key);
        _addPrefixSpace = addPrefixSpace;
        MaxId = vocab.Count == 0 ? -1 : vocab.Values.Max();
        // Every byte must be representable, or some inputs would have no encoding at all.
        var missing = Enumerable.Range(0, 256).Where(b => !vocab.ContainsKey(ByteLevelAlphabet.Encode((byte)b).ToString())).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{source}: byte-level vocabulary lacks {missing.Count} of the 256 byte tokens (e.g. byte 0x{missing[0]:X2}).");
    }

    public IReadOnlyList<int> EncodeSegment(string segment)
    {
        if (segment.Length == 0) return [];
        // HF ByteLevel(add_prefix_space) prepends a space unless the segment already starts with one.
        if (_addPrefixSpace && segment[0] != ' ') segment = " " + segment;
        return _bpe.EncodeToIds(segment);
    }

    public string DecodeRun(IReadOnlyList<int> ids)
    {
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            var tok = IdToToken(id) ?? throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is not in the vocabulary");
            if (!ByteLevelAlphabet.TryDecode(tok, bytes)) bytes.AddRange(Encoding.UTF8.GetBytes(tok));
        }
        // Like HF (errors="replace"): a token run that splits a UTF-8 sequence decodes to U+FFFD.
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public string? IdToToken(int id) => _idToToken.GetValueOrDefault(id);
}
