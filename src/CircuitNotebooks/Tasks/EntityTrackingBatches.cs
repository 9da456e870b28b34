using System.Text.RegularExpressions;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;

namespace CircuitNotebooks.Tasks;

/// <summary>
/// Entity-tracking prompts as <see cref="PromptBatch"/>es with the token roles of Prakash et al.'s circuit:
/// <see cref="PromptBatch.Last"/> (groups A and B), <see cref="QueryLabel"/> (the box label in "Box X contains the",
/// group C) and <see cref="PrevQueryLabel"/> (the same label's earlier occurrence in its segment, group D).
/// Positions come from tokenizing prompt prefixes, so any tokenizer works as long as the label ends a token.
/// </summary>
public static class EntityTrackingBatches
{
    public const string QueryLabel = "query_label";
    public const string PrevQueryLabel = "prev_query_label";

    /// <summary>Clean prompts, labels and roles.</summary>
    public static PromptBatch Clean(HookedTransformer model, IReadOnlyList<TaskExample> examples) =>
        FromPrompts(model, examples.Select(e => e.Clean).ToList(), examples.Select(e => Meta(e, "query_box")).ToList(),
            examples.Select(e => e.Label).ToList());

    /// <summary>Corrupted (counterfactual) prompts with their own labels and roles.</summary>
    public static PromptBatch Corrupted(HookedTransformer model, IReadOnlyList<TaskExample> examples) =>
        FromPrompts(model, examples.Select(e => e.Corrupted).ToList(), examples.Select(e => Meta(e, "corrupted_query_box")).ToList(),
            examples.Select(e => e.CorruptedLabel ?? throw new ArgumentException($"Example \"{e.Clean}\" has no corrupted label.")).ToList());

    /// <summary>Clean and corrupted batches, checked to be token-aligned row by row (path patching needs that).</summary>
    public static (PromptBatch Clean, PromptBatch Corrupted) Pair(HookedTransformer model, IReadOnlyList<TaskExample> examples)
    {
        var clean = Clean(model, examples);
        var corrupted = Corrupted(model, examples);
        var a = clean.PositionsOf(PromptBatch.Last);
        var b = corrupted.PositionsOf(PromptBatch.Last);
        for (int i = 0; i < a.Length; i++)
            if (a[i] != b[i])
            {
                clean.Dispose();
                corrupted.Dispose();
                throw new ArgumentException($"Example {i}: clean prompt has {a[i] + 1} tokens, corrupted {b[i] + 1}; " +
                                            "patching needs equal token counts (check that objects and labels are single tokens).");
            }
        return (clean, corrupted);
    }

    /// <summary>A batch of entity-tracking prompts (right-padded), answers <paramref name="labels"/> as single tokens.</summary>
    public static PromptBatch FromPrompts(HookedTransformer model, IReadOnlyList<string> prompts, IReadOnlyList<string> queryBoxes,
        IReadOnlyList<string> labels)
    {
        if (prompts.Count == 0) throw new ArgumentException("No prompts.", nameof(prompts));
        if (queryBoxes.Count != prompts.Count || labels.Count != prompts.Count)
            throw new ArgumentException($"{prompts.Count} prompts, {queryBoxes.Count} query boxes, {labels.Count} labels: counts must match.");
        var tok = model.Tokenizer ?? throw new InvalidOperationException("The model needs a tokenizer.");
        var seqs = new List<int[]>();
        var query = new int[prompts.Count];
        var prev = new int[prompts.Count];
        var ids = new long[prompts.Count];
        for (int i = 0; i < prompts.Count; i++)
        {
            var full = model.Encode(prompts[i]);
            (query[i], prev[i]) = Locate(model, prompts[i], queryBoxes[i], full, i);
            ids[i] = TaskValidator.LabelTokenId(prompts[i], labels[i], tok);
            seqs.Add(full);
        }
        using var padded = model.Pad(seqs, PaddingSide.Right);
        return new PromptBatch(padded.Tokens, padded.AttentionMask, ids,
            new Dictionary<string, int[]> { [QueryLabel] = query, [PrevQueryLabel] = prev });
    }

    /// <summary>Token indices (BOS included) of the queried label and of its occurrence in the context.</summary>
    public static (int Query, int Previous) Locate(HookedTransformer model, string prompt, string queryBox) =>
        Locate(model, prompt, queryBox, model.Encode(prompt), 0);

    private static (int, int) Locate(HookedTransformer model, string prompt, string queryBox, int[] full, int row)
    {
        int q = prompt.LastIndexOf("Box " + queryBox, StringComparison.Ordinal);
        var first = new Regex(@"Box " + Regex.Escape(queryBox) + @"(?!\w)").Match(prompt);
        if (q < 0 || !first.Success || first.Index >= q)
            throw new ArgumentException($"Row {row}: prompt \"{prompt}\" does not mention box '{queryBox}' both in the context and in the query.");
        return (TokenEnding(model, prompt, q + 4 + queryBox.Length, full, row), TokenEnding(model, prompt, first.Index + first.Length, full, row));
    }

    /// <summary>Index of the token that ends at character <paramref name="end"/>; the prefix must tokenize as a prefix of the whole.</summary>
    private static int TokenEnding(HookedTransformer model, string prompt, int end, int[] full, int row)
    {
        var prefix = model.Encode(prompt[..end]);
        if (prefix.Length > full.Length || !prefix.AsSpan().SequenceEqual(full.AsSpan(0, prefix.Length)))
            throw new ArgumentException($"Row {row}: \"{prompt[..end]}\" does not tokenize as a prefix of the prompt (the box label merges " +
                                        "with the next characters), so its token position is ambiguous.");
        return prefix.Length - 1;
    }

    private static string Meta(TaskExample e, string key) =>
        e.Metadata.TryGetValue(key, out var v) ? v : throw new ArgumentException($"Example \"{e.Clean}\" lacks metadata '{key}' (not an entity-tracking example?).");
}
