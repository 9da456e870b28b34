using System.Text.Json;
using CircuitNotebooks.Models;
using Xunit;

namespace CircuitNotebooks.Tests.Models;

/// <summary>
/// Golden ids for small tokenizer.json files of each family (Fixtures/tokenizers/*), produced by @huggingface/tokenizers
/// (pure-JS tokenizer.json implementation) with Fixtures/tokenizers/generate.mjs.
/// </summary>
public sealed class TokenizerFixtureTests
{
    public static string FixtureDir(string family) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", family);

    internal static List<(string Text, int[] Ids, string Decoded)> Golden(string family)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDir(family), "golden.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => (c.GetProperty("text").GetString()!, c.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray(),
                c.GetProperty("decoded").GetString()!))
            .ToList();
    }

    /// <summary>One line per case whose ids (and, with <paramref name="decode"/>, decoded text) differ from the golden ones.</summary>
    internal static List<string> Mismatches(HfTokenizer tok, IEnumerable<(string Text, int[] Ids, string Decoded)> cases, bool encode = true, bool decode = false) =>
        cases.Where(c => (encode && !tok.Encode(c.Text).SequenceEqual(c.Ids)) || (decode && tok.Decode(c.Ids) != c.Decoded))
            .Select(c => $"{JsonSerializer.Serialize(c.Text)}: expected [{string.Join(",", c.Ids)}] {JsonSerializer.Serialize(c.Decoded)}, " +
                         $"got [{string.Join(",", tok.Encode(c.Text))}] {JsonSerializer.Serialize(tok.Decode(c.Ids))}")
            .ToList();

    public static TheoryData<string, string> Families => new()
    {
        { "gpt2", "ByteLevelBPE" }, { "pythia", "ByteLevelBPE" }, { "llama2", "BPE" }, { "mistral", "BPE" }, { "llama3", "ByteLevelBPE" }, { "qwen2", "ByteLevelBPE" },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void EveryFixtureStringGetsTheGoldenIds(string family, string kind)
    {
        var tok = HfTokenizer.Load(FixtureDir(family));
        Assert.Equal(kind, tok.Kind);
        var cases = Golden(family);
        Assert.True(cases.Count >= 200, $"{family}: only {cases.Count} cases");
        var failures = Mismatches(tok, cases);
        Assert.True(failures.Count == 0, $"{family}: {failures.Count}/{cases.Count} differ:\n" + string.Join("\n", failures.Take(15)));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void DecodingTheGoldenIdsGivesTheReferenceText(string family, string kind)
    {
        _ = kind;
        var tok = HfTokenizer.Load(FixtureDir(family));
        var failures = Mismatches(tok, Golden(family), encode: false, decode: true);
        Assert.True(failures.Count == 0, $"{family}: {failures.Count} decodes differ:\n" + string.Join("\n", failures.Take(15)));
    }
}

/// <summary>
/// tokenizer.model (SentencePiece protobuf, read by Microsoft.ML.Tokenizers' LlamaTokenizer) holding the llama2 fixture's
/// vocabulary: it must give the ids @huggingface/tokenizers gave for the equivalent tokenizer.json.
/// </summary>
public sealed class SentencePieceModelFixtureTests
{
    [Fact]
    public void TokenizerModelGivesTheTokenizerJsonGoldenIds()
    {
        var tok = HfTokenizer.Load(TokenizerFixtureTests.FixtureDir("llama2-spm"));
        Assert.Equal("BPE", tok.Kind);
        Assert.Equal((1, 2), (tok.BosId, tok.EosId));
        // "<tool>" is an added token of the tokenizer.json only.
        var cases = TokenizerFixtureTests.Golden("llama2").Where(c => !c.Text.Contains("<tool>")).ToList();
        Assert.True(cases.Count >= 150, $"only {cases.Count} cases");
        var failures = TokenizerFixtureTests.Mismatches(tok, cases, decode: true);
        Assert.True(failures.Count == 0, $"{failures.Count}/{cases.Count} differ:\n" + string.Join("\n", failures.Take(15)));
    }
}

/// <summary>
/// Why tokenizer.model is not encoded with Microsoft.ML.Tokenizers' LlamaTokenizer: on two equal-score pairs it merges
/// the right one first, where SentencePiece and HF merge the left one. If this starts failing, the library changed and
/// SentencePieceModelFile could hand encoding back to it.
/// </summary>
public sealed class LlamaTokenizerTieBreakTests
{
    [Fact]
    public void LlamaTokenizerMergesTheRightmostOfEqualPairs()
    {
        using var stream = File.OpenRead(Path.Combine(TokenizerFixtureTests.FixtureDir("llama2-spm"), "tokenizer.model"));
        var ml = Microsoft.ML.Tokenizers.LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        var ours = HfTokenizer.Load(TokenizerFixtureTests.FixtureDir("llama2-spm"));
        var golden = TokenizerFixtureTests.Golden("llama2").Single(c => c.Text == "\n\n\nnewlines\n\n").Ids;
        Assert.Equal(golden, ours.Encode("\n\n\nnewlines\n\n"));
        Assert.NotEqual(golden, ml.EncodeToIds("\n\n\nnewlines\n\n", false, false));
        Assert.Equal(golden.Order(), ml.EncodeToIds("\n\n\nnewlines\n\n", false, false).Order()); // same pieces, other split
    }
}

/// <summary>
/// Mistral-7B's real vocabulary and merges (from mistral-tokenizer-js, Apache-2.0 vocabulary) as tokenizer.json;
/// golden ids on which mistral-tokenizer-js and @huggingface/tokenizers agree (Fixtures/tokenizers/generate-mistral.mjs).
/// </summary>
public sealed class MistralRealVocabularyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mistral-real-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void RealMistralVocabularyGivesTheGoldenIds()
    {
        var src = TokenizerFixtureTests.FixtureDir("mistral-real");
        using (var gz = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(src, "tokenizer.json.gz")), System.IO.Compression.CompressionMode.Decompress))
        using (var output = File.Create(Path.Combine(_dir, "tokenizer.json")))
            gz.CopyTo(output);
        File.Copy(Path.Combine(src, "tokenizer_config.json"), Path.Combine(_dir, "tokenizer_config.json"));
        var tok = HfTokenizer.Load(_dir);
        Assert.Equal((32000, 1, 2), (tok.VocabSize, tok.BosId, tok.EosId));
        Assert.Equal([22557, 1526, 28808], tok.Encode("Hello world!")); // ids published with Mistral 7B
        var cases = TokenizerFixtureTests.Golden("mistral-real");
        Assert.True(cases.Count >= 400, $"only {cases.Count} cases");
        var failures = TokenizerFixtureTests.Mismatches(tok, cases, decode: true);
        Assert.True(failures.Count == 0, $"{failures.Count}/{cases.Count} differ:\n" + string.Join("\n", failures.Take(15)));
    }
}
