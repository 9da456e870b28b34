using CircuitNotebooks.Models;

namespace CircuitNotebooks.FineTuning;

/// <summary>
/// One tokenized training sequence; <see cref="AnswerMask"/> marks the answer tokens, the only ones the loss and the
/// exact-match evaluation look at. The first token is never an answer token (something must predict it).
/// </summary>
public sealed record TrainingExample(int[] Ids, bool[] AnswerMask)
{
    public int Length => Ids.Length;
    public int AnswerTokens => AnswerMask.Count(m => m);

    /// <summary>Prompt (with BOS when the tokenizer has one) followed by the answer's tokens.</summary>
    public static TrainingExample FromText(HookedTransformer model, string prompt, string answer, bool prependBos = true)
    {
        var tok = model.Tokenizer ?? throw new InvalidOperationException("The model has no tokenizer; set model.Tokenizer or pass pre-tokenized examples.");
        var p = model.Encode(prompt, prependBos);
        var a = tok.Encode(answer).ToArray();
        if (a.Length == 0) throw new ArgumentException($"Answer '{answer}' of prompt '{prompt}' encodes to no tokens.", nameof(answer));
        return FromIds(p, a);
    }

    /// <summary>A task example as a training sequence: clean prompt, then <paramref name="labelPrefix"/> + label as the answer.</summary>
    public static TrainingExample FromTask(HookedTransformer model, Tasks.TaskExample example, string labelPrefix = " ") =>
        FromText(model, example.Clean, labelPrefix + example.Label);

    public static TrainingExample FromIds(IReadOnlyList<int> prompt, IReadOnlyList<int> answer) =>
        new([.. prompt, .. answer], [.. Enumerable.Repeat(false, prompt.Count), .. Enumerable.Repeat(true, answer.Count)]);

    public static IReadOnlyList<TrainingExample> FromText(HookedTransformer model, IEnumerable<(string Prompt, string Answer)> pairs, bool prependBos = true) =>
        pairs.Select(p => FromText(model, p.Prompt, p.Answer, prependBos)).ToList();

    /// <summary>Checks every example; the message names the set, index and problem.</summary>
    public static void Validate(IReadOnlyList<TrainingExample> examples, string set, int vocab, int? maxLength)
    {
        if (examples.Count == 0) throw new ArgumentException($"The {set} set is empty.");
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i];
            string where = $"{set} example {i}";
            if (e.Ids.Length == 0) throw new ArgumentException($"{where} has no tokens.");
            if (e.AnswerMask.Length != e.Ids.Length)
                throw new ArgumentException($"{where}: AnswerMask has length {e.AnswerMask.Length}, Ids {e.Ids.Length}.");
            if (e.AnswerMask[0]) throw new ArgumentException($"{where}: the first token cannot be an answer token.");
            if (e.AnswerTokens == 0) throw new ArgumentException($"{where} has no answer tokens.");
            if (maxLength is int m && e.Ids.Length > m) throw new ArgumentException($"{where} has {e.Ids.Length} tokens, more than n_ctx {m}.");
            int bad = Array.FindIndex(e.Ids, t => t < 0 || t >= vocab);
            if (bad >= 0) throw new ArgumentException($"{where}: token {e.Ids[bad]} at position {bad} is outside the vocabulary [0, {vocab}).");
        }
    }
}
