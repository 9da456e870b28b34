using System.Text.Json;
using System.Text.Json.Nodes;

namespace CircuitNotebooks.Models;

public sealed partial class HfTokenizer
{
    public const string SupportedFormats =
        "tokenizer.json with BPE (byte-level as GPT-2/Pythia/Llama 3/Qwen2, or SentencePiece-style with byte_fallback as " +
        "Llama 2/Mistral) or WordLevel; vocab.json + merges.txt; SentencePiece tokenizer.model (BPE)";

    /// <summary>
    /// Loads from a model folder: tokenizer.json if present, else vocab.json + merges.txt, else tokenizer.model.
    /// BOS/EOS/PAD come from tokenizer_config.json, then special_tokens_map.json, then config.json (*_token_id); PAD
    /// falls back to EOS.
    /// </summary>
    public static HfTokenizer Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Tokenizer folder not found: {directory}");
        var tokJson = Path.Combine(directory, "tokenizer.json");
        var vocabJson = Path.Combine(directory, "vocab.json");
        var mergesTxt = Path.Combine(directory, "merges.txt");
        var spModel = Path.Combine(directory, "tokenizer.model");
        ITokenModel model;
        var normalizer = TextNormalizer.Identity;
        var added = new List<AddedToken>();
        if (File.Exists(tokJson))
            (model, normalizer) = FromTokenizerJson(JsonFields.Load(tokJson), added);
        else if (File.Exists(vocabJson) && File.Exists(mergesTxt))
        {
            bool prefix = ReadOptional(Path.Combine(directory, "tokenizer_config.json"))?.Bool("add_prefix_space", false) ?? false;
            var pre = new PreTokenizerPipeline([new ByteLevelStep(prefix, useRegex: true)]);
            model = new BpeModel(ReadVocab(JsonFields.Load(vocabJson).Object, vocabJson, "vocab"), ReadMergesTxt(mergesTxt), pre,
                new BpeSettings { ByteLevel = true }, mergesTxt);
            if (ReadOptional(Path.Combine(directory, "added_tokens.json")) is { } at)
                foreach (var (k, v) in ReadVocab(at.Object, at.Source, "added_tokens")) added.Add(new AddedToken(k, v));
        }
        else if (File.Exists(spModel))
            (model, normalizer, added) = SentencePieceModelFile.Load(spModel);
        else
            throw new FileNotFoundException($"{directory}: no tokenizer.json, vocab.json + merges.txt, nor tokenizer.model. Supported: {SupportedFormats}.");

        var specials = ResolveSpecials(directory, model, added);
        return new HfTokenizer(model, added, normalizer, specials.Bos, specials.Eos, specials.Pad);
    }

    private static JsonFields? ReadOptional(string path) => File.Exists(path) ? JsonFields.Load(path) : null;

    private static (ITokenModel, TextNormalizer) FromTokenizerJson(JsonFields f, List<AddedToken> added)
    {
        var src = f.Source;
        var normalizer = TokenizerJsonComponents.Normalizer(f.Object["normalizer"], src);
        if (f.Object["added_tokens"] is JsonArray arr)
            for (int i = 0; i < arr.Count; i++)
                added.Add(ReadAddedToken(arr[i], $"{src} (added_tokens[{i}])"));
        if (f.Object["model"] is not JsonObject m) throw new InvalidDataException($"{src}: required object field 'model' is missing.");
        var mf = new JsonFields(m, src + " (model)");
        var type = mf.OptString("type");
        switch (type)
        {
            case "BPE":
                if (m["dropout"] is JsonValue || !string.IsNullOrEmpty(mf.OptString("continuing_subword_prefix"))
                    || !string.IsNullOrEmpty(mf.OptString("end_of_word_suffix")))
                    throw new NotSupportedException($"{src}: BPE options dropout/continuing_subword_prefix/end_of_word_suffix are not supported. Supported: {SupportedFormats}.");
                var pre = TokenizerJsonComponents.PreTokenizer(f.Object["pre_tokenizer"], src, out bool byteLevel, out _);
                bool byteFallback = mf.Bool("byte_fallback", false);
                if (byteLevel && byteFallback)
                    throw new NotSupportedException($"{src}: model.byte_fallback together with a ByteLevel pre_tokenizer is not supported.");
                var (space, strip) = TokenizerJsonComponents.Decoder(f.Object["decoder"], src);
                var settings = new BpeSettings
                {
                    ByteLevel = byteLevel, ByteFallback = byteFallback, UnkToken = mf.OptString("unk_token"), FuseUnk = mf.Bool("fuse_unk", false),
                    IgnoreMerges = mf.Bool("ignore_merges", false), SpaceReplacement = space, StripLeadingSpaces = strip,
                };
                if (m["vocab"] is not JsonObject vocab) throw new InvalidDataException($"{src}: field 'model.vocab' must be an object.");
                return (new BpeModel(ReadVocab(vocab, src, "model.vocab"), ReadJsonMerges(m["merges"], src), pre, settings, src), normalizer);
            case "WordLevel":
                var preType = (f.Object["pre_tokenizer"] as JsonObject)?["type"]?.GetValue<string>();
                var split = preType switch
                {
                    "WhitespaceSplit" => WordSplit.WhitespaceSplit,
                    "Whitespace" => WordSplit.Whitespace,
                    _ => throw new NotSupportedException($"{src}: WordLevel pre_tokenizer '{preType ?? "none"}' is not supported. Supported: {SupportedFormats}."),
                };
                if (m["vocab"] is not JsonObject wv) throw new InvalidDataException($"{src}: field 'model.vocab' must be an object.");
                return (new WordLevelModel(ReadVocab(wv, src, "model.vocab"), mf.OptString("unk_token"), split, src), normalizer);
            default:
                throw new NotSupportedException($"{src}: tokenizer model type '{type ?? "none"}' is not supported. Supported: {SupportedFormats}.");
        }
    }

    /// <summary>An added_tokens entry (tokenizer.json) or added_tokens_decoder value (tokenizer_config.json).</summary>
    private static AddedToken ReadAddedToken(JsonNode? node, string src, int? id = null)
    {
        if (node is not JsonObject o) throw new InvalidDataException($"{src}: must be an object with 'id' and 'content'.");
        var f = new JsonFields(o, src);
        var content = f.OptString("content") ?? throw new InvalidDataException($"{src}: field 'content' is missing.");
        bool special = f.Bool("special", false);
        return new AddedToken(content, id ?? f.Int("id"), special, f.Bool("lstrip", false), f.Bool("rstrip", false),
            f.Bool("single_word", false), o["normalized"] is null ? null : f.Bool("normalized", !special));
    }

    private static Dictionary<string, int> ReadVocab(JsonObject o, string src, string field)
    {
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (k, v) in o)
        {
            if (v is not JsonValue jv || jv.GetValueKind() != JsonValueKind.Number || !jv.TryGetValue<int>(out var id) || id < 0)
                throw new InvalidDataException($"{src}: field '{field}' entry '{k}' must be a non-negative integer id.");
            d[k] = id;
        }
        return d;
    }

    /// <summary>tokenizer.json merges: either "a b" strings (older) or ["a", "b"] pairs (tokenizers ≥ 0.20).</summary>
    private static List<(string, string)> ReadJsonMerges(JsonNode? node, string src)
    {
        if (node is not JsonArray arr) throw new InvalidDataException($"{src}: field 'model.merges' must be an array.");
        var result = new List<(string, string)>(arr.Count);
        for (int i = 0; i < arr.Count; i++)
        {
            var e = arr[i];
            if (e is JsonValue v && v.GetValueKind() == JsonValueKind.String && SplitMerge(v.GetValue<string>()) is { } pair) result.Add(pair);
            else if (e is JsonArray p && p.Count == 2 && p[0] is JsonValue a && a.GetValueKind() == JsonValueKind.String
                     && p[1] is JsonValue b && b.GetValueKind() == JsonValueKind.String)
                result.Add((a.GetValue<string>(), b.GetValue<string>()));
            else throw new InvalidDataException($"{src}: model.merges[{i}] must be \"a b\" or [\"a\", \"b\"] (got {e?.ToJsonString() ?? "null"}).");
        }
        return result;
    }

    private static (string, string)? SplitMerge(string s)
    {
        var parts = s.Split(' ');
        return parts.Length == 2 && parts[0].Length > 0 && parts[1].Length > 0 ? (parts[0], parts[1]) : null;
    }

    private static List<(string, string)> ReadMergesTxt(string path)
    {
        var result = new List<(string, string)>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if ((lineNo == 1 && line.StartsWith("#version")) || line.Length == 0) continue;
            result.Add(SplitMerge(line) ?? throw new InvalidDataException($"{path}: line {lineNo} is not a merge \"a b\": '{line}'."));
        }
        return result;
    }

    private static (int? Bos, int? Eos, int? Pad) ResolveSpecials(string dir, ITokenModel model, List<AddedToken> added)
    {
        var tokCfg = ReadOptional(Path.Combine(dir, "tokenizer_config.json"));
        var specialMap = ReadOptional(Path.Combine(dir, "special_tokens_map.json"));
        var cfg = ReadOptional(Path.Combine(dir, "config.json"));
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (t, i) in model.Vocabulary) vocab.TryAdd(t, i);
        bool Known(string content) => added.Any(a => a.Content == content);
        if (tokCfg?.Object["added_tokens_decoder"] is JsonObject dec)
            foreach (var (k, v) in dec)
                if (int.TryParse(k, out var id) && ReadAddedToken(v, $"{tokCfg.Source} (added_tokens_decoder.{k})", id) is var t && !Known(t.Content))
                    added.Add(t);

        int? Resolve(string name)
        {
            foreach (var f in new[] { tokCfg, specialMap })
            {
                if (f?.Object[name] is not { } node) continue;
                var text = node is JsonObject o ? o["content"]?.GetValue<string>() : (node as JsonValue)?.GetValue<string>();
                if (text is null) throw new InvalidDataException($"{f.Source}: field '{name}' must be a token string or {{\"content\": ...}}.");
                // Named special tokens are always matched whole in text, like HF slow/fast tokenizers do.
                if (added.FirstOrDefault(a => a.Content == text) is { } a) return a.Id;
                if (vocab.TryGetValue(text, out var v)) { added.Add(new AddedToken(text, v)); return v; }
                throw new InvalidDataException($"{f.Source}: field '{name}' = '{text}' is not a token of the vocabulary.");
            }
            var fromConfig = cfg?.OptInt(name + "_id");
            if (fromConfig is { } i && model.IdToToken(i) is { } tok && !Known(tok)) added.Add(new AddedToken(tok, i));
            return fromConfig;
        }
        var bos = Resolve("bos_token");
        var eos = Resolve("eos_token");
        var pad = Resolve("pad_token");
        Resolve("unk_token");
        return (bos, eos, pad);
    }
}
