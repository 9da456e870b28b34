using CircuitNotebooks.Models;

namespace CircuitNotebooks.Tasks;

/// <summary>
/// One fine-tuning text: prompt + separator + answer. Characters [AnswerStart, AnswerStart + AnswerLength) are the
/// answer, the only place loss goes.
/// </summary>
public sealed record FineTuneText(string Text, int AnswerStart, int AnswerLength)
{
    public string Prompt => Text[..AnswerStart];
    public string Answer => Text.Substring(AnswerStart, AnswerLength);
    public bool IsAnswerChar(int index) => index >= AnswerStart && index < AnswerStart + AnswerLength;
}

/// <summary>Token ids of a fine-tuning text and which of them carry loss.</summary>
public sealed record FineTuneTokens(IReadOnlyList<int> Ids, IReadOnlyList<bool> IsAnswer);

public static class FineTuneFormat
{
    /// <summary>
    /// clean + template.AnswerSeparator + label: the paper's "prompt\nanswer" with <see cref="PromptTemplate.Paper"/>,
    /// "prompt answer" with <see cref="PromptTemplate.Short"/>.
    /// </summary>
    public static FineTuneText Format(TaskExample example, PromptTemplate template) =>
        Format(example.Clean, example.Label, template.AnswerSeparator);

    public static FineTuneText Format(string prompt, string answer, string separator)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(separator);
        var head = prompt + separator;
        return new FineTuneText(head + answer, head.Length, answer.Length);
    }

    /// <summary>
    /// Tokenizes the text and marks the answer tokens: those after the longest common prefix of Encode(prompt +
    /// separator) and Encode(text). A token that straddles the boundary (the separator merging with the answer)
    /// therefore counts as answer, so the loss always covers the whole answer. Optional EOS is appended as an
    /// answer token (teaches the model to stop).
    /// </summary>
    public static FineTuneTokens Tokenize(FineTuneText text, ITokenizer tokenizer, bool appendEos = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var head = tokenizer.Encode(text.Prompt);
        var ids = tokenizer.Encode(text.Text).ToList();
        int common = 0;
        while (common < head.Count && common < ids.Count && head[common] == ids[common]) common++;
        var mask = Enumerable.Range(0, ids.Count).Select(i => i >= common).ToList();
        if (appendEos)
        {
            if (tokenizer.EosId is not { } eos)
                throw new InvalidOperationException("appendEos requested but the tokenizer has no EOS id.");
            ids.Add(eos);
            mask.Add(true);
        }
        return new FineTuneTokens(ids, mask);
    }
}
