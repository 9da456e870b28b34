namespace CircuitNotebooks.Tasks;

/// <summary>Which instruction prefix of a <see cref="PromptTemplate"/> a task uses.</summary>
public enum TaskFamily { Arithmetic, Sequence, Lcm, Function, EntityTracking }

/// <summary>
/// How a task body ("72 - 46 =") becomes a prompt, and how prompt and answer are joined for fine-tuning.
/// Every generator takes a template so the same expressions can be rendered for the paper's models
/// (<see cref="Paper"/>: instruction prefix, newline before the answer) or a tiny word-level model
/// (<see cref="Short"/>: bare body, space before the answer).
/// </summary>
/// <param name="Name">Identifier stored in example metadata ("template").</param>
/// <param name="ArithmeticPrefix">Prefix for Add/Sub, Mul/Div and composite prompts; null for none.</param>
/// <param name="SequencePrefix">Prefix for arithmetic/geometric sequences.</param>
/// <param name="LcmPrefix">Prefix for the few-shot LCM task.</param>
/// <param name="FunctionPrefix">Prefix for function evaluation.</param>
/// <param name="EntityTrackingPrefix">Prefix for entity tracking (none in Prakash et al.).</param>
/// <param name="PrefixSeparator">Between prefix and body.</param>
/// <param name="AnswerSeparator">Between prompt and answer in fine-tuning text (paper: newline).</param>
public sealed record PromptTemplate(
    string Name,
    string? ArithmeticPrefix,
    string? SequencePrefix,
    string? LcmPrefix,
    string? FunctionPrefix,
    string? EntityTrackingPrefix,
    string PrefixSeparator = " ",
    string AnswerSeparator = "\n")
{
    /// <summary>
    /// Wang et al. 2025. The arithmetic prefix is quoted from the paper; the sequence, LCM and function prefixes are
    /// inferred (the paper only shows the task bodies), so override them if you have the authors' exact wording.
    /// </summary>
    public static PromptTemplate Paper { get; } = new(
        "paper",
        ArithmeticPrefix: "Calculate the result of the following arithmetic expression and provide only the final answer:",
        SequencePrefix: "Derive the next term of the following sequence and provide only the final answer:",
        LcmPrefix: "Calculate the least common multiple (LCM) of two numbers and provide only the final answer:",
        FunctionPrefix: "Calculate the value of the function and provide only the final answer:",
        EntityTrackingPrefix: null,
        PrefixSeparator: " ",
        AnswerSeparator: "\n");

    /// <summary>Tiny-model template: "72 - 46 =" with no prefix; answer follows after a space.</summary>
    public static PromptTemplate Short { get; } = new("short", null, null, null, null, null, " ", " ");

    public string? PrefixFor(TaskFamily family) => family switch
    {
        TaskFamily.Arithmetic => ArithmeticPrefix,
        TaskFamily.Sequence => SequencePrefix,
        TaskFamily.Lcm => LcmPrefix,
        TaskFamily.Function => FunctionPrefix,
        TaskFamily.EntityTracking => EntityTrackingPrefix,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "unknown task family"),
    };

    /// <summary>The full prompt for a task body.</summary>
    public string Apply(TaskFamily family, string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var prefix = PrefixFor(family);
        return string.IsNullOrEmpty(prefix) ? body : prefix + PrefixSeparator + body;
    }
}
