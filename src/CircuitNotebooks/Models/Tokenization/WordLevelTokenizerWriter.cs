using CircuitNotebooks.Models;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CircuitNotebooks.Models;

/// <summary>
/// Writes a WordLevel tokenizer.json (+ tokenizer_config.json) that both <see cref="HfTokenizer"/> and HF
/// transformers' PreTrainedTokenizerFast load. A token's id is its index in the vocabulary list.
/// </summary>
public static class WordLevelTokenizerWriter
{
    public static void Write(string directory, IReadOnlyList<string> vocabulary, string unkToken,
        string? bosToken = null, string? eosToken = null, string? padToken = null, WordSplit split = WordSplit.WhitespaceSplit)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Count; i++)
        {
            var t = vocabulary[i];
            if (string.IsNullOrEmpty(t)) throw new ArgumentException($"vocabulary[{i}] is empty.", nameof(vocabulary));
            if (!ids.TryAdd(t, i)) throw new ArgumentException($"vocabulary[{i}] '{t}' duplicates vocabulary[{ids[t]}].", nameof(vocabulary));
        }
        var specials = new[] { ("unk_token", unkToken), ("bos_token", bosToken), ("eos_token", eosToken), ("pad_token", padToken) }
            .Where(s => s.Item2 is not null).Select(s => (Field: s.Item1, Token: s.Item2!)).ToList();
        foreach (var (field, token) in specials)
            if (!ids.ContainsKey(token)) throw new ArgumentException($"{field} '{token}' is not in the vocabulary.");

        var added = new JsonArray();
        foreach (var token in specials.Select(s => s.Token).Distinct().OrderBy(t => ids[t]))
            added.Add(new JsonObject
            {
                ["id"] = ids[token], ["content"] = token, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
        var vocab = new JsonObject();
        foreach (var t in vocabulary) vocab[t] = ids[t];
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = split.ToString() },
            ["post_processor"] = null,
            ["decoder"] = null,
            ["model"] = new JsonObject { ["type"] = "WordLevel", ["vocab"] = vocab, ["unk_token"] = unkToken },
        };
        var config = new JsonObject { ["tokenizer_class"] = "PreTrainedTokenizerFast", ["model_max_length"] = 1_000_000 };
        foreach (var (field, token) in specials) config[field] = token;

        var opts = new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer.json"), tokenizer.ToJsonString(opts));
        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config.ToJsonString(opts));
    }
}
