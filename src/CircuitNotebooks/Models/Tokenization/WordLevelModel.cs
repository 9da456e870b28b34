using System.Text.RegularExpressions;

namespace CircuitNotebooks.Models;

/// <summary>How a WordLevel tokenizer cuts text into words (HF pre-tokenizers of the same names).</summary>
public enum WordSplit
{
    /// <summary>Runs of whitespace separate words.</summary>
    WhitespaceSplit,
    /// <summary>HF "Whitespace": words are runs of \w or runs of other non-space characters.</summary>
    Whitespace,
}

/// <summary>One id per whole word; words outside the vocabulary map to the unknown token (or are an error without one).</summary>
internal sealed partial class WordLevelModel : ITokenModel
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<int, string> _idToToken;
    private readonly int? _unkId;
    private readonly WordSplit _split;

    public string Kind => "WordLevel";
    public int MaxId { get; }
    public string PieceSeparator => " ";
    public IEnumerable<(string Token, int Id)> Vocabulary => _vocab.Select(kv => (kv.Key, kv.Value));

    public WordLevelModel(IReadOnlyDictionary<string, int> vocab, string? unkToken, WordSplit split, string source)
    {
        _vocab = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        _idToToken = _vocab.ToDictionary(kv => kv.Value, kv => kv.Key);
        _split = split;
        MaxId = _vocab.Count == 0 ? -1 : _vocab.Values.Max();
        if (unkToken is not null)
            _unkId = _vocab.TryGetValue(unkToken, out var u) ? u
                : throw new InvalidDataException($"{source}: unk_token '{unkToken}' is not in the WordLevel vocabulary.");
    }

    [GeneratedRegex(@"\w+|[^\w\s]+")]
    private static partial Regex WhitespacePattern();

    public static IEnumerable<string> Words(string text, WordSplit split) => split == WordSplit.Whitespace
        ? WhitespacePattern().Matches(text).Select(m => m.Value)
        : text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    public IReadOnlyList<int> EncodeSegment(string segment, bool atTextStart)
    {
        var ids = new List<int>();
        foreach (var w in Words(segment, _split))
        {
            if (_vocab.TryGetValue(w, out var id)) ids.Add(id);
            else if (_unkId is { } unk) ids.Add(unk);
            else throw new ArgumentException($"word '{w}' is not in the vocabulary and the tokenizer has no unk_token.");
        }
        return ids;
    }

    /// <summary>HF WordLevel has no decoder: tokens are joined with single spaces.</summary>
    public string DecodeRun(IReadOnlyList<int> ids, bool atTextStart) =>
        string.Join(" ", ids.Select(id => IdToToken(id) ?? throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is not in the vocabulary")));

    public string? IdToToken(int id) => _idToToken.GetValueOrDefault(id);
}
