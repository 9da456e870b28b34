using CircuitNotebooks.Models;

namespace CircuitNotebooks.Tests.Tasks;

/// <summary>Word-level test tokenizer: tokens are maximal runs of non-whitespace; ids assigned on first sight.</summary>
internal sealed class WhitespaceTokenizer : ITokenizer
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal) { ["<eos>"] = 0 };
    private readonly List<string> _tokens = ["<eos>"];

    public int VocabSize => _tokens.Count;
    public int? BosId => null;
    public int? EosId => 0;
    public int? PadId => 0;

    public IReadOnlyList<int> Encode(string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(Id).ToArray();

    public string Decode(IEnumerable<int> ids) => string.Join(" ", ids.Select(TokenToString));
    public string TokenToString(int id) => _tokens[id];

    private int Id(string token)
    {
        if (_ids.TryGetValue(token, out var id)) return id;
        _ids[token] = _tokens.Count;
        _tokens.Add(token);
        return _tokens.Count - 1;
    }
}

/// <summary>Character-level test tokenizer: every UTF-16 char is one token (id = char code).</summary>
internal sealed class CharTokenizer : ITokenizer
{
    public int VocabSize => 65536;
    public int? BosId => null;
    public int? EosId => null;
    public int? PadId => null;
    public IReadOnlyList<int> Encode(string text) => text.Select(c => (int)c).ToArray();
    public string Decode(IEnumerable<int> ids) => new(ids.Select(i => (char)i).ToArray());
    public string TokenToString(int id) => ((char)id).ToString();
}
