using System.Text.Json.Nodes;
using CircuitNotebooks.Models;
using Xunit;

namespace CircuitNotebooks.Tests.Models;

/// <summary>
/// Added-token flags and pre-tokenizer pieces that the JS oracle does not implement (single_word, MergedWith*),
/// checked against outcomes derived by hand from the HF tokenizers rules.
/// </summary>
public sealed class AddedTokenFlagTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tok-flags-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Character-level BPE over a-z, space and "!" (no merges), ids 0..27, then the given added tokens from 100.</summary>
    private HfTokenizer Load(params JsonObject[] added)
    {
        var vocab = new JsonObject();
        const string chars = "abcdefghijklmnopqrstuvwxyz !";
        for (int i = 0; i < chars.Length; i++) vocab[chars[i].ToString()] = i;
        for (int i = 0; i < added.Length; i++) added[i]["id"] = 100 + i;
        var json = new JsonObject
        {
            ["added_tokens"] = new JsonArray(added),
            ["normalizer"] = new JsonObject { ["type"] = "Lowercase" },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray() },
        };
        var dir = Path.Combine(_dir, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        return HfTokenizer.Load(dir);
    }

    private static JsonObject Tok(string content, bool special = true, bool lstrip = false, bool rstrip = false, bool singleWord = false, bool? normalized = null)
    {
        var o = new JsonObject { ["content"] = content, ["special"] = special, ["lstrip"] = lstrip, ["rstrip"] = rstrip, ["single_word"] = singleWord };
        if (normalized is { } n) o["normalized"] = n;
        return o;
    }

    private const int A = 0, B = 1, Space = 26;

    [Fact]
    public void LStripAndRStripSwallowNeighbouringWhitespace()
    {
        Assert.Equal([A, Space, 100, Space, B], Load(Tok("<x>")).Encode("a <x> b"));
        Assert.Equal([A, 100, Space, B], Load(Tok("<x>", lstrip: true)).Encode("a  <x> b"));
        Assert.Equal([A, Space, 100, B], Load(Tok("<x>", rstrip: true)).Encode("a <x>  b"));
        Assert.Equal([A, 100, B], Load(Tok("<x>", lstrip: true, rstrip: true)).Encode("a \t<x>\n b"));
    }

    [Fact]
    public void SingleWordTokensOnlyMatchBetweenNonWordCharacters()
    {
        var tok = Load(Tok("ab", singleWord: true));
        Assert.Equal([100, Space, 100, 27], tok.Encode("ab ab!"));
        Assert.Equal([A, B, A, B], tok.Encode("abab")); // both candidates touch a letter, so neither is taken
        Assert.Equal([2, A, B, Space, 100], tok.Encode("cab ab"));
    }

    [Fact]
    public void NormalizedTokensAreMatchedAfterNormalizationAndRawOnesBefore()
    {
        // Lowercase normalizer: a normalized "<x>" also matches "<X>"; a raw one only matches exactly.
        Assert.Equal([100], Load(Tok("<x>", special: false)).Encode("<X>"));
        Assert.Equal([100], Load(Tok("<x>", normalized: true)).Encode("<X>"));
        var raw = Load(Tok("<x>", special: true));
        Assert.Equal([100], raw.Encode("<x>"));
        Assert.Throws<ArgumentException>(() => raw.Encode("<X>")); // '<' is not in the vocabulary and there is no unk/byte fallback
    }

    [Theory]
    [InlineData("Isolated", new[] { "a", "-", "b", "-", "-", "c" })]
    [InlineData("Removed", new[] { "a", "b", "c" })]
    [InlineData("MergedWithPrevious", new[] { "a-", "b-", "-", "c" })]
    [InlineData("MergedWithNext", new[] { "a", "-b", "-", "-c" })]
    [InlineData("Contiguous", new[] { "a", "-", "b", "--", "c" })]
    public void SplitBehavioursFollowHf(string behavior, string[] expected)
    {
        var step = new SplitStep(new CodePointRegex("-").Matches, Enum.Parse<DelimiterBehavior>(behavior), invert: false);
        Assert.Equal(expected, step.Split("a-b--c", atTextStart: true));
    }

    [Fact]
    public void RegexSeesEmojiAndAstralLettersAsOneCodePoint()
    {
        // Llama 3's "[^\r\n\p{L}\p{N}]?\p{L}+": an emoji is one optional non-letter before a word; 𝐀 (U+1D400) is a letter.
        var re = new CodePointRegex(@"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+");
        string Cut(string s) => string.Join("|", re.Matches(s).Select(m => s.Substring(m.Start, m.Length)));
        Assert.Equal("😀hello", Cut("😀hello"));
        Assert.Equal("x𝐀𝐁y| 😀", Cut("x𝐀𝐁y 😀"));
        Assert.Equal("123|4", Cut("1234"));
    }
}
