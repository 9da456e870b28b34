using System.Text;
using System.Text.Json.Nodes;
using CircuitNotebooks.Models;
using Xunit;

namespace CircuitNotebooks.Tests.Models;

public sealed class HfTokenizerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tok-tests-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly Dictionary<int, char> B2U = ReferenceByteLevelBpe.BytesToUnicode();
    private static string U(params byte[] bytes) => new(bytes.Select(b => B2U[b]).ToArray());

    /// <summary>256 byte tokens (id = byte value) then one token per merge (id = 256 + rank).</summary>
    private static (Dictionary<string, int> Vocab, List<(string, string)> Merges) TinyBpe()
    {
        var vocab = Enumerable.Range(0, 256).ToDictionary(b => U((byte)b), b => b);
        string sp = U(0x20), nl = U(0x0A);
        var emoji = Encoding.UTF8.GetBytes("😀"); // F0 9F 98 80
        var merges = new List<(string, string)>
        {
            (sp, "t"), ("h", "e"), (sp + "t", "he"), ("l", "l"), (sp, sp), (sp + sp, sp + sp), (U(0xC3), U(0xA9)),
            (nl, nl), ("e", "r"), (sp, "w"), ("o", "r"), (sp + "w", "or"), ("l", "d"), (sp + "wor", "ld"), ("a", "a"),
            (U(emoji[0]), U(emoji[1])), (U(emoji[2]), U(emoji[3])), (U(emoji[0], emoji[1]), U(emoji[2], emoji[3])), ("'", "s"),
        };
        for (int i = 0; i < merges.Count; i++) vocab[merges[i].Item1 + merges[i].Item2] = 256 + i;
        return (vocab, merges);
    }

    private string WriteTokenizerJson(string name, bool arrayMerges, bool addPrefixSpace = false, JsonNode? normalizer = null)
    {
        var (vocab, merges) = TinyBpe();
        var dir = Path.Combine(_dir, name);
        Directory.CreateDirectory(dir);
        var v = new JsonObject();
        foreach (var (k, id) in vocab) v[k] = id;
        var m = new JsonArray();
        foreach (var (a, b) in merges) m.Add(arrayMerges ? new JsonArray(a, b) : JsonValue.Create($"{a} {b}"));
        var json = new JsonObject
        {
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = 300, ["content"] = "<|endoftext|>", ["special"] = true }),
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = addPrefixSpace, ["trim_offsets"] = true, ["use_regex"] = true },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject { ["type"] = "BPE", ["dropout"] = null, ["vocab"] = v, ["merges"] = m },
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"bos_token\":{\"content\":\"<|endoftext|>\"},\"eos_token\":\"<|endoftext|>\"}");
        return dir;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HandDerivedIdsForTinyByteLevelBpe(bool arrayMerges)
    {
        var tok = HfTokenizer.Load(WriteTokenizerJson(arrayMerges ? "arr" : "str", arrayMerges));
        // "the": (h,e) rank 1 merges; (t,he) is no merge → t=116, he=257.
        Assert.Equal([116, 257], tok.Encode("the"));
        // " the": Ġt (rank 0), he (1), Ġt+he (2) → 258.
        Assert.Equal([258], tok.Encode(" the"));
        // " world": Ġw(265) then or(266) then Ġw+or(267), ld(268), Ġwor+ld(269).
        Assert.Equal([269], tok.Encode(" world"));
        // "  the": regex gives " " (\s+(?!\S)) then " the" → [32, 258].
        Assert.Equal([32, 258], tok.Encode("  the"));
        // "\n\n" → ĊĊ (263); "é" = C3 A9 → 262; "😀" → two byte-pair merges (271, 272) then their pair (273).
        Assert.Equal([263], tok.Encode("\n\n"));
        Assert.Equal([262], tok.Encode("é"));
        Assert.Equal([273], tok.Encode("😀"));
        // "aaa": leftmost pair merges first → aa(270), a(97).
        Assert.Equal([270, 97], tok.Encode("aaa"));
        // Added token is cut out before BPE; "'s" is a regex contraction with its own merge (274).
        Assert.Equal([97, 300, 116, 257, 274], tok.Encode("a<|endoftext|>the's"));
        Assert.Equal((300, 300, 300), (tok.BosId, tok.EosId, tok.PadId));
        Assert.Equal(301, tok.VocabSize);
        Assert.Equal(" the", tok.TokenToString(258));
        Assert.Equal("Ġthe", tok.IdToToken(258));
    }

    [Fact]
    public void MatchesReferenceBpeOnRandomStrings()
    {
        var (vocab, merges) = TinyBpe();
        var reference = new ReferenceByteLevelBpe(vocab, merges);
        var tok = HfTokenizer.Load(WriteTokenizerJson("rand", arrayMerges: false));
        string[] parts = ["the", " ", "  ", "\n", "\n\n", "é", "😀", "a", "w", "or", "ld", "'s", "'", "1", "23", "!", "\t", "Ω", "e\u0301", "x", "?!", " 9"];
        var rng = new Random(1234);
        for (int n = 0; n < 500; n++)
        {
            var s = string.Concat(Enumerable.Range(0, rng.Next(0, 12)).Select(_ => parts[rng.Next(parts.Length)]));
            Assert.Equal(reference.Encode(s), tok.Encode(s));
            Assert.Equal(s, tok.Decode(tok.Encode(s)));
        }
    }

    [Fact]
    public void AddPrefixSpaceAndNfcNormalizerApply()
    {
        var tok = HfTokenizer.Load(WriteTokenizerJson("prefix", arrayMerges: true, addPrefixSpace: true, normalizer: new JsonObject { ["type"] = "NFC" }));
        Assert.Equal([258], tok.Encode("the"));
        Assert.Equal([258], tok.Encode(" the"));
        Assert.Equal([32, 262], tok.Encode("e\u0301")); // NFC → "é", prefix space: Ġ then é
    }

    [Fact]
    public void VocabJsonPlusMergesTxtGivesSameIds()
    {
        var (vocab, merges) = TinyBpe();
        var dir = Path.Combine(_dir, "legacy");
        Directory.CreateDirectory(dir);
        var v = new JsonObject();
        foreach (var (k, id) in vocab) v[k] = id;
        v["<|endoftext|>"] = 300;
        File.WriteAllText(Path.Combine(dir, "vocab.json"), v.ToJsonString());
        File.WriteAllLines(Path.Combine(dir, "merges.txt"), ["#version: 0.2", .. merges.Select(m => $"{m.Item1} {m.Item2}")]);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"bos_token_id\":300,\"eos_token_id\":300}");
        var tok = HfTokenizer.Load(dir);
        var reference = new ReferenceByteLevelBpe(vocab, merges);
        Assert.Equal(reference.Encode(" the world\n\néé"), tok.Encode(" the world\n\néé"));
        Assert.Equal(300, tok.EosId);
        Assert.Equal([258, 300], tok.Encode(" the<|endoftext|>")); // named special token is matched whole
    }

    [Fact]
    public void UnsupportedFormatsAreRefusedNamingSupportedOnes()
    {
        var dir = Path.Combine(_dir, "unigram");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}");
        var e = Assert.Throws<NotSupportedException>(() => HfTokenizer.Load(dir));
        Assert.Contains("Unigram", e.Message);
        Assert.Contains("WordLevel", e.Message);
        Assert.Contains("byte-level", e.Message);
        Assert.Contains("SentencePiece", e.Message);

        File.WriteAllText(Path.Combine(dir, "tokenizer.json"),
            "{\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,\"vocab\":{},\"merges\":[]}}");
        e = Assert.Throws<NotSupportedException>(() => HfTokenizer.Load(dir));
        Assert.Contains("byte_fallback", e.Message);

        File.WriteAllText(Path.Combine(dir, "tokenizer.json"),
            "{\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Digits\"}]},\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}");
        e = Assert.Throws<NotSupportedException>(() => HfTokenizer.Load(dir));
        Assert.Contains("pre_tokenizer.pretokenizers[0] type 'Digits'", e.Message);
        Assert.Contains(Path.Combine(dir, "tokenizer.json"), e.Message);

        File.WriteAllText(Path.Combine(dir, "tokenizer.json"),
            "{\"normalizer\":{\"type\":\"Precompiled\"},\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}");
        e = Assert.Throws<NotSupportedException>(() => HfTokenizer.Load(dir));
        Assert.Contains("normalizer type 'Precompiled'", e.Message);

        Assert.Throws<FileNotFoundException>(() => HfTokenizer.Load(Path.Combine(_dir)));
    }

    [Fact]
    public void WordLevelWrittenTokenizerEncodesExactIdsAndUnknowns()
    {
        var dir = Path.Combine(_dir, "word");
        WordLevelTokenizerWriter.Write(dir, ["<unk>", "<bos>", "<eos>", "the", "cat", "sat", "."], "<unk>", bosToken: "<bos>", eosToken: "<eos>");
        var tok = HfTokenizer.Load(dir);
        Assert.Equal("WordLevel", tok.Kind);
        Assert.Equal([3, 4, 5, 6], tok.Encode("the cat  sat\n."));
        Assert.Equal([3, 0, 0], tok.Encode(" the dog cat."));  // WhitespaceSplit: "cat." is one unknown word
        Assert.Equal([1, 3, 4, 2], tok.Encode("<bos>the cat<eos>"));
        Assert.Equal((1, 2, 2, 7), (tok.BosId, tok.EosId, tok.PadId, tok.VocabSize));
        Assert.Equal("<bos> the cat <eos>", tok.Decode([1, 3, 4, 2]));
        Assert.Equal("sat", tok.TokenToString(5));
    }

    [Fact]
    public void WordLevelWhitespaceModeSplitsPunctuation()
    {
        var dir = Path.Combine(_dir, "word2");
        WordLevelTokenizerWriter.Write(dir, ["[UNK]", "cat", ".", "a1"], "[UNK]", split: WordSplit.Whitespace);
        var tok = HfTokenizer.Load(dir);
        Assert.Equal([1, 2, 3, 0], tok.Encode("cat. a1 b"));
        Assert.Equal([1, 0], tok.Encode("cat!?"));
        Assert.Null(tok.BosId);
    }

    [Fact]
    public void WordLevelWriterRejectsBadVocabularies()
    {
        Assert.Throws<ArgumentException>(() => WordLevelTokenizerWriter.Write(_dir, ["a", "a"], "a"));
        Assert.Throws<ArgumentException>(() => WordLevelTokenizerWriter.Write(_dir, ["a"], "<unk>"));
    }
}
