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
        var failures = cases.Where(c => !tok.Encode(c.Text).SequenceEqual(c.Ids))
            .Select(c => $"{JsonSerializer.Serialize(c.Text)}: expected [{string.Join(",", c.Ids)}] got [{string.Join(",", tok.Encode(c.Text))}]")
            .ToList();
        Assert.True(failures.Count == 0, $"{family}: {failures.Count}/{cases.Count} differ:\n" + string.Join("\n", failures.Take(15)));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void DecodingTheGoldenIdsGivesTheReferenceText(string family, string kind)
    {
        _ = kind;
        var tok = HfTokenizer.Load(FixtureDir(family));
        var failures = Golden(family).Where(c => tok.Decode(c.Ids) != c.Decoded)
            .Select(c => $"{JsonSerializer.Serialize(c.Text)}: expected {JsonSerializer.Serialize(c.Decoded)} got {JsonSerializer.Serialize(tok.Decode(c.Ids))}").ToList();
        Assert.True(failures.Count == 0, $"{family}: {failures.Count} decodes differ:\n" + string.Join("\n", failures.Take(15)));
    }
}
