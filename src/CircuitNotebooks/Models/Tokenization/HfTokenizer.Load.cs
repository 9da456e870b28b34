using System.Text.Json;
using System.Text.Json.Nodes;

namespace CircuitNotebooks.Models;

public sealed partial class HfTokenizer
{
    public const string SupportedFormats =
        "byte-level BPE (GPT-2/Pythia style: tokenizer.json with a ByteLevel pre-tokenizer, or vocab.json + merges.txt) " +
        "and WordLevel (tokenizer.json with a Whitespace or WhitespaceSplit pre-tokenizer)";

    /// <summary>
    /// Loads from a model folder: tokenizer.json if present, else vocab.json + merges.txt. BOS/EOS/PAD come from
    /// tokenizer_config.json, then special_tokens_map.json, then config.json (*_token_id); PAD falls back to EOS.
    /// </summary>
    public static HfTokenizer Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Tokenizer folder not found: {directory}");
        var tokJson = Path.Combine(directory, "tokenizer.json");
        var vocabJson = Path.Combine(directory, "vocab.json");
        var mergesTxt = Path.Combine(directory, "merges.txt");
        ITokenModel model;
        bool nfc = false;
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        if (File.Exists(tokJson))
            (model, nfc) = FromTokenizerJson(JsonFields.Load(tokJson), added);
        else if (File.Exists(vocabJson) && File.Exists(mergesTxt))
        {
            bool prefix = ReadOptional(Path.Combine(directory, "tokenizer_config.json"))?.Bool("add_prefix_space", false) ?? false;
            model = new ByteLevelBpeModel(ReadVocab(JsonFields.Load(vocabJson).Object, vocabJson, "vocab"), ReadMergesTxt(mergesTxt), prefix, mergesTxt);
            if (ReadOptional(Path.Combine(directory, "added_tokens.json")) is { } at)
                foreach (var (k, v) in ReadVocab(at.Object, at.Source, "added_tokens")) added[k] = v;
        }
        else
            throw new FileNotFoundException($"{directory}: no tokenizer.json, nor vocab.json + merges.txt. Supported: {SupportedFormats}.");

        var specials = ResolveSpecials(directory, model, added);
        return new HfTokenizer(model, added, nfc, specials.Bos, specials.Eos, specials.Pad);
    }

    private static JsonFields? ReadOptional(string path) => File.Exists(path) ? JsonFields.Load(path) : null;

    private static (ITokenModel, bool Nfc) FromTokenizerJson(JsonFields f, Dictionary<string, int> added)
    {
        var src = f.Source;
        bool nfc = f.Object["normalizer"] switch
        {
            null => false,
            JsonObject n when (n["type"]?.GetValue<string>()) == "NFC" => true,
            var n => throw new NotSupportedException($"{src}: normalizer {n.ToJsonString()} is not supported (only none or NFC). Supported: {SupportedFormats}."),
        };
        if (f.Object["added_tokens"] is JsonArray arr)
            foreach (var t in arr)
            {
                var content = (t as JsonObject)?["content"]?.GetValue<string>();
                var id = (t as JsonObject)?["id"]?.GetValue<int>();
                if (content is null || id is null) throw new InvalidDataException($"{src}: each added_tokens entry needs 'id' and 'content'.");
                added[content] = id.Value;
            }
        if (f.Object["model"] is not JsonObject m) throw new InvalidDataException($"{src}: required object field 'model' is missing.");
        var mf = new JsonFields(m, src + " (model)");
        var type = mf.OptString("type");
        var pre = f.Object["pre_tokenizer"] as JsonObject;
        var preType = pre?["type"]?.GetValue<string>();
        switch (type)
        {
            case "BPE":
                if (mf.Bool("byte_fallback", false))
                    throw new NotSupportedException($"{src}: BPE with byte_fallback (SentencePiece-style) is not supported. Supported: {SupportedFormats}.");
                if (mf.Bool("ignore_merges", false) || m["dropout"] is JsonValue || !string.IsNullOrEmpty(mf.OptString("continuing_subword_prefix"))
                    || !string.IsNullOrEmpty(mf.OptString("end_of_word_suffix")))
                    throw new NotSupportedException($"{src}: BPE options ignore_merges/dropout/subword affixes are not supported. Supported: {SupportedFormats}.");
                if (preType != "ByteLevel" || !new JsonFields(pre!, src + " (pre_tokenizer)").Bool("use_regex", true))
                    throw new NotSupportedException($"{src}: BPE pre_tokenizer '{preType ?? "none"}' is not supported (needs ByteLevel with the GPT-2 regex). Supported: {SupportedFormats}.");
                bool prefix = new JsonFields(pre!, src + " (pre_tokenizer)").Bool("add_prefix_space", false);
                if (m["vocab"] is not JsonObject vocab) throw new InvalidDataException($"{src}: field 'model.vocab' must be an object.");
                return (new ByteLevelBpeModel(ReadVocab(vocab, src, "model.vocab"), ReadJsonMerges(m["merges"], src), prefix, src), nfc);
            case "WordLevel":
                var split = preType switch
                {
                    "WhitespaceSplit" => WordSplit.WhitespaceSplit,
                    "Whitespace" => WordSplit.Whitespace,
                    _ => throw new NotSupportedException($"{src}: WordLevel pre_tokenizer '{preType ?? "none"}' is not supported. Supported: {SupportedFormats}."),
                };
                if (m["vocab"] is not JsonObject wv) throw new InvalidDataException($"{src}: field 'model.vocab' must be an object.");
                return (new WordLevelModel(ReadVocab(wv, src, "model.vocab"), mf.OptString("unk_token"), split, src), nfc);
            default:
                throw new NotSupportedException($"{src}: tokenizer model type '{type ?? "none"}' is not supported. Supported: {SupportedFormats}.");
        }
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

    private static (int? Bos, int? Eos, int? Pad) ResolveSpecials(string dir, ITokenModel model, Dictionary<string, int> added)
    {
        var tokCfg = ReadOptional(Path.Combine(dir, "tokenizer_config.json"));
        var specialMap = ReadOptional(Path.Combine(dir, "special_tokens_map.json"));
        var cfg = ReadOptional(Path.Combine(dir, "config.json"));
        var vocab = model.Vocabulary.ToDictionary(v => v.Token, v => v.Id, StringComparer.Ordinal);
        if (tokCfg?.Object["added_tokens_decoder"] is JsonObject dec)
            foreach (var (k, v) in dec)
                if (int.TryParse(k, out var id) && (v as JsonObject)?["content"]?.GetValue<string>() is { } c) added.TryAdd(c, id);

        int? Resolve(string name)
        {
            foreach (var f in new[] { tokCfg, specialMap })
            {
                if (f?.Object[name] is not { } node) continue;
                var text = node is JsonObject o ? o["content"]?.GetValue<string>() : (node as JsonValue)?.GetValue<string>();
                if (text is null) throw new InvalidDataException($"{f.Source}: field '{name}' must be a token string or {{\"content\": ...}}.");
                // Named special tokens are always matched whole in text, like HF slow/fast tokenizers do.
                if (added.TryGetValue(text, out var a)) return a;
                if (vocab.TryGetValue(text, out var v)) { added[text] = v; return v; }
                throw new InvalidDataException($"{f.Source}: field '{name}' = '{text}' is not a token of the vocabulary.");
            }
            var fromConfig = cfg?.OptInt(name + "_id");
            if (fromConfig is { } i && model.IdToToken(i) is { } tok) added.TryAdd(tok, i);
            return fromConfig;
        }
        var bos = Resolve("bos_token");
        var eos = Resolve("eos_token");
        var pad = Resolve("pad_token");
        Resolve("unk_token");
        return (bos, eos, pad);
    }
}
