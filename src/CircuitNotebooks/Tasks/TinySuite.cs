namespace CircuitNotebooks.Tasks;

/// <summary>
/// The scaled-down task suite of the embedded default model: a word-level vocabulary in which every number
/// 0..299 is one token, and generator presets sized so every label is a single token and clean/corrupted prompts
/// have equal length. Prompts use <see cref="PromptTemplate.Short"/>.
/// </summary>
public static class TinySuite
{
    public const int MaxNumber = 299;
    public const string Pad = "<pad>", Bos = "<bos>", Eos = "<eos>", Unk = "<unk>";
    public static readonly string[] BoxLabels = ["A", "B", "C", "D", "E", "F", "G", "H"];
    public static readonly string[] Objects =
        ["apple", "ball", "book", "cake", "coin", "cup", "doll", "fish", "hat", "key", "lamp", "pen", "ring", "shoe", "sock", "toy"];

    /// <summary>Specials first (pad 0, bos 1, eos 2, unk 3), then numbers, symbols and words.</summary>
    public static IReadOnlyList<string> Vocabulary { get; } = BuildVocabulary();

    private static List<string> BuildVocabulary()
    {
        var v = new List<string> { Pad, Bos, Eos, Unk };
        v.AddRange(Enumerable.Range(0, MaxNumber + 1).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        v.AddRange(["+", "-", "*", "/", "=", "(", ")", ",", ".", ":"]);
        v.AddRange(["The", "the", "is", "in", "Box", "contains"]);
        v.AddRange(BoxLabels);
        v.AddRange(Objects);
        return v;
    }

    public static PromptTemplate Template => PromptTemplate.Short;

    /// <summary>The fine-tuning target: addition and subtraction of operands 0..99 (half each).</summary>
    public static ITaskGenerator AddSub => new AddSubGenerator("tiny-addsub", new AddSubOptions(MaxOperand: 99));

    public static ITaskGenerator ArithmeticSequence => new SequenceGenerator("tiny-arith-seq",
        new SequenceOptions(SequenceKind.Arithmetic, ShownTerms: 4, MinStart: 0, MaxStart: 60, MinArithmeticStep: 1,
            MaxArithmeticStep: 30, MaxTerm: MaxNumber, MinCorruption: 1, MaxCorruption: 20, DistinctPrompts: false));

    public static CompositeOptions CompositeOptions => new(MinOperand: 1, MaxOperand: 30, MinZ: 2, MaxZ: 9, MaxResult: MaxNumber);
    public static ITaskGenerator Composite => new CompositeGenerator("tiny-composite", CompositePart.Full, CompositeOptions);
    public static ITaskGenerator CompositeBracket => new CompositeGenerator("tiny-composite-bracket", CompositePart.Bracket, CompositeOptions);
    public static ITaskGenerator CompositeOuter => new CompositeGenerator("tiny-composite-outer", CompositePart.Outer, CompositeOptions);

    public static ITaskGenerator EntityTracking => new EntityTrackingGenerator("tiny-entity-tracking", EntityTrackingOptions);

    public static EntityTrackingOptions EntityTrackingOptions => new(NumBoxes: 3, Objects: Objects, BoxLabels: BoxLabels);

    /// <summary>Tiny-suite generators by name (the CLI's --task values).</summary>
    public static IReadOnlyDictionary<string, Func<ITaskGenerator>> ByName { get; } = new Dictionary<string, Func<ITaskGenerator>>
    {
        ["addsub"] = () => AddSub,
        ["arith-seq"] = () => ArithmeticSequence,
        ["composite"] = () => Composite,
        ["composite-bracket"] = () => CompositeBracket,
        ["composite-outer"] = () => CompositeOuter,
        // Fresh counterfactuals: circuit discovery by logit difference needs a corrupted answer that differs from the
        // clean one (the swap counterfactual keeps the object). Clean prompts equal EntityTracking's.
        ["entity-tracking"] = () => new EntityTrackingGenerator("tiny-entity-tracking",
            EntityTrackingOptions with { Counterfactual = EntityCounterfactual.Fresh }),
    };

    public static ITaskGenerator Get(string name) => ByName.TryGetValue(name, out var f)
        ? f()
        : throw new KeyNotFoundException($"Unknown task '{name}'. Tiny-suite tasks: {string.Join(", ", ByName.Keys)}.");

    /// <summary>
    /// The pre-training mix of the default model, built so the fine-tuning target is weak but not absent
    /// (Prakash et al.'s premise): addition is common, subtraction rare (<paramref name="subtractionShare"/> of
    /// Add/Sub examples), plus sequences, the outer (multiplication) half of the composite task and entity tracking.
    /// </summary>
    public static IReadOnlyList<TaskExample> PretrainingMix(int seed, int perTask = 4000, double subtractionShare = 0.08)
    {
        var rng = new Random(seed);
        // Add/Sub within 100 has only 10,100 distinct prompts (5,050 each way): draw at most nearly all of them.
        var addsub = AddSub.Generate(Math.Min(perTask * 2, 10_000), seed + 1, Template)
            .Where(e => e.Metadata?["op"] == "+" || rng.NextDouble() < subtractionShare * 2 / (1 + subtractionShare))
            .Take(perTask);
        var mix = addsub
            .Concat(ArithmeticSequence.Generate(perTask, seed + 2, Template))
            .Concat(CompositeOuter.Generate(perTask / 2, seed + 3, Template))
            .Concat(EntityTracking.Generate(perTask, seed + 4, Template))
            .ToList();
        for (int i = mix.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (mix[i], mix[j]) = (mix[j], mix[i]);
        }
        return mix;
    }
}
