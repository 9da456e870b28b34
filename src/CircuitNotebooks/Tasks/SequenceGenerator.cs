namespace CircuitNotebooks.Tasks;

public enum SequenceKind { Arithmetic, Geometric, Mixed }

/// <summary>Options of <see cref="SequenceGenerator"/>.</summary>
/// <param name="Kind">Arithmetic (constant difference), geometric (constant ratio) or half of each.</param>
/// <param name="ShownTerms">Terms in the prompt; the label is the next one.</param>
/// <param name="MinStart">Smallest first term.</param>
/// <param name="MaxStart">Largest first term.</param>
/// <param name="MinArithmeticStep">Smallest common difference.</param>
/// <param name="MaxArithmeticStep">Largest common difference.</param>
/// <param name="MinRatio">Smallest common ratio.</param>
/// <param name="MaxRatio">Largest common ratio.</param>
/// <param name="MaxTerm">Largest allowed label.</param>
/// <param name="MinCorruption">Smallest amount added to the corrupted term (paper: 1).</param>
/// <param name="MaxCorruption">Largest amount added to the corrupted term (paper: 100).</param>
/// <param name="DistinctPrompts">Require distinct clean prompts (geometric spaces are small: default off there).</param>
public sealed record SequenceOptions(
    SequenceKind Kind = SequenceKind.Arithmetic,
    int ShownTerms = 4,
    int MinStart = 1, int MaxStart = 200,
    int MinArithmeticStep = 1, int MaxArithmeticStep = 50,
    int MinRatio = 2, int MaxRatio = 5,
    int MaxTerm = 999,
    int MinCorruption = 1, int MaxCorruption = 100,
    bool DistinctPrompts = true) : ITaskOptions
{
    public static SequenceOptions Geometric { get; } = new(SequenceKind.Geometric, MinStart: 1, MaxStart: 30,
        MaxTerm: 9999, DistinctPrompts: false);

    public void Validate()
    {
        if (ShownTerms < 2) throw new ArgumentException($"{nameof(SequenceOptions)}: ShownTerms must be ≥ 2 (got {ShownTerms}).");
        GeneratorKit.CheckRange(nameof(SequenceOptions) + ".Start", MinStart, MaxStart);
        GeneratorKit.CheckRange(nameof(SequenceOptions) + ".ArithmeticStep", MinArithmeticStep, MaxArithmeticStep);
        GeneratorKit.CheckRange(nameof(SequenceOptions) + ".Ratio", MinRatio, MaxRatio);
        GeneratorKit.CheckRange(nameof(SequenceOptions) + ".Corruption", MinCorruption, MaxCorruption);
        if (MinCorruption < 1) throw new ArgumentException($"{nameof(SequenceOptions)}: MinCorruption must be ≥ 1.");
        if (MinStart < 0 || MinRatio < 1) throw new ArgumentException($"{nameof(SequenceOptions)}: terms must be non-negative.");
    }
}

/// <summary>
/// "4, 8, 16, 32," → "64". The corrupted prompt adds 1–100 to one of the last two shown terms (chosen at random);
/// the amount is redrawn until the term keeps its digit count, so token counts usually match. The corrupted
/// prompt is no sequence, so <see cref="TaskExample.CorruptedLabel"/> is null.
/// </summary>
public sealed class SequenceGenerator(string name, SequenceOptions options)
    : UniqueExampleGenerator<SequenceOptions>(name, options)
{
    protected override (string? Key, TaskExample Example)? Draw(Random rng, int index, int seed, PromptTemplate template)
    {
        var o = Options;
        bool geometric = o.Kind == SequenceKind.Geometric || (o.Kind == SequenceKind.Mixed && index % 2 == 1);
        long start = GeneratorKit.Between(rng, o.MinStart, o.MaxStart);
        long step = geometric
            ? GeneratorKit.Between(rng, o.MinRatio, o.MaxRatio)
            : GeneratorKit.Between(rng, o.MinArithmeticStep, o.MaxArithmeticStep);
        var terms = new long[o.ShownTerms + 1];
        terms[0] = start;
        for (int i = 1; i < terms.Length; i++)
        {
            terms[i] = geometric ? terms[i - 1] * step : terms[i - 1] + step;
            if (terms[i] > o.MaxTerm) return null;
        }
        int which = o.ShownTerms - 1 - rng.Next(2); // one of the last two shown terms
        long? corruptedTerm = null;
        for (int attempt = 0; attempt < 50 && corruptedTerm is null; attempt++)
        {
            long c = terms[which] + GeneratorKit.Between(rng, o.MinCorruption, o.MaxCorruption);
            if (GeneratorKit.Digits(c) == GeneratorKit.Digits(terms[which])) corruptedTerm = c;
        }
        if (corruptedTerm is null) return null;
        var shown = terms[..o.ShownTerms];
        var corrupted = (long[])shown.Clone();
        corrupted[which] = corruptedTerm.Value;
        static string body(long[] t) => string.Join(", ", t.Select(GeneratorKit.S)) + ",";
        var ex = new TaskExample(
            template.Apply(TaskFamily.Sequence, body(shown)),
            template.Apply(TaskFamily.Sequence, body(corrupted)),
            GeneratorKit.S(terms[^1]), null,
            new Dictionary<string, string>
            {
                ["task"] = Name, ["template"] = template.Name,
                ["kind"] = geometric ? "geometric" : "arithmetic",
                ["start"] = GeneratorKit.S(start), ["step"] = GeneratorKit.S(step),
                ["corrupted_index"] = GeneratorKit.S(which),
                ["corruption"] = GeneratorKit.S(corruptedTerm.Value - terms[which]),
            });
        return (o.DistinctPrompts ? body(shown) : null, ex);
    }
}
