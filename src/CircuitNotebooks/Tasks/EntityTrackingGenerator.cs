namespace CircuitNotebooks.Tasks;

/// <summary>How the counterfactual (corrupted) prompt of an entity-tracking example is built.</summary>
public enum EntityCounterfactual
{
    /// <summary>
    /// Same boxes and objects, but the queried segment swaps places with another segment, so the answer object sits
    /// at another box index; the query text and the answer are unchanged. Patching positional information from it
    /// points the clean run at the wrong segment (path patching, DCM positional desideratum).
    /// </summary>
    SwapAnswerPosition,
    /// <summary>
    /// Fresh objects and box labels, queried box at another index (answer differs); Prakash et al.'s path patching
    /// counterfactual style.
    /// </summary>
    Fresh,
}

/// <summary>Options of <see cref="EntityTrackingGenerator"/>.</summary>
/// <param name="NumBoxes">Boxes (segments) per prompt (paper: 7).</param>
/// <param name="Objects">Object vocabulary (null: <see cref="DefaultObjects"/>); each must be one token for the model.</param>
/// <param name="BoxLabels">Box-label vocabulary (null: <see cref="DefaultBoxLabels"/>, the letters A–Z).</param>
/// <param name="Counterfactual">How the corrupted prompt is built.</param>
public sealed record EntityTrackingOptions(
    int NumBoxes = 7,
    IReadOnlyList<string>? Objects = null,
    IReadOnlyList<string>? BoxLabels = null,
    EntityCounterfactual Counterfactual = EntityCounterfactual.SwapAnswerPosition) : ITaskOptions
{
    /// <summary>Common short nouns (one token in most BPE vocabularies; the validator checks for a given model).</summary>
    public static IReadOnlyList<string> DefaultObjects { get; } =
    [
        "document", "pie", "bell", "apple", "book", "coat", "key", "map", "ring", "watch", "shoe", "cup", "hat",
        "ball", "bag", "plane", "train", "car", "boat", "brain", "leaf", "stone", "fan", "clock", "fish", "egg",
        "letter", "knife", "milk", "wire", "card", "dress", "bread", "gift", "plate", "toy", "bottle", "box",
    ];

    public static IReadOnlyList<string> DefaultBoxLabels { get; } =
        Enumerable.Range('A', 26).Select(c => ((char)c).ToString()).ToArray();

    public IReadOnlyList<string> EffectiveObjects => Objects ?? DefaultObjects;
    public IReadOnlyList<string> EffectiveBoxLabels => BoxLabels ?? DefaultBoxLabels;

    public void Validate()
    {
        if (NumBoxes < 2) throw new ArgumentException($"{nameof(EntityTrackingOptions)}: NumBoxes must be ≥ 2 (got {NumBoxes}).");
        Check(nameof(Objects), EffectiveObjects);
        Check(nameof(BoxLabels), EffectiveBoxLabels);
    }

    private void Check(string what, IReadOnlyList<string> vocab)
    {
        if (vocab.Count < NumBoxes)
            throw new ArgumentException($"{nameof(EntityTrackingOptions)}.{what}: {vocab.Count} entries, need at least NumBoxes = {NumBoxes}.");
        if (vocab.Distinct(StringComparer.Ordinal).Count() != vocab.Count)
            throw new ArgumentException($"{nameof(EntityTrackingOptions)}.{what}: entries must be distinct.");
        foreach (var v in vocab)
            // Metadata stores orders comma-joined, and the prompt uses ", " between segments.
            if (string.IsNullOrWhiteSpace(v) || v.Contains(',') || v != v.Trim())
                throw new ArgumentException($"{nameof(EntityTrackingOptions)}.{what}: invalid entry \"{v}\" (empty, comma or surrounding space).");
    }
}

/// <summary>
/// Entity tracking (Kim &amp; Schuster; Prakash et al. 2024): "The document is in Box X, the pie is in Box F, …,
/// the bell is in Box K. Box X contains the" → "document". Segment i is the i-th "the O is in Box L" clause.
/// Metadata: query_box, answer_index (segment holding the answer), box_labels and objects (comma-joined, segment
/// order), and the same for the corrupted prompt (corrupted_answer_index, corrupted_box_labels,
/// corrupted_objects); corrupted_answer_index ≠ answer_index always.
/// </summary>
public sealed class EntityTrackingGenerator(string name, EntityTrackingOptions options)
    : UniqueExampleGenerator<EntityTrackingOptions>(name, options)
{
    public EntityTrackingGenerator() : this("entity-tracking", new EntityTrackingOptions()) { }

    protected override (string? Key, TaskExample Example)? Draw(Random rng, int _, int seed, PromptTemplate template)
    {
        int n = Options.NumBoxes;
        var objects = Options.EffectiveObjects;
        var labels = Options.EffectiveBoxLabels;
        var objs = Sample(rng, objects, n);
        var boxes = Sample(rng, labels, n);
        int qi = rng.Next(n);
        int qj = rng.Next(n - 1);
        if (qj >= qi) qj++; // another index, uniform
        string[] cObjs, cBoxes;
        if (Options.Counterfactual == EntityCounterfactual.SwapAnswerPosition)
        {
            (cObjs, cBoxes) = ((string[])objs.Clone(), (string[])boxes.Clone());
            (cObjs[qi], cObjs[qj]) = (cObjs[qj], cObjs[qi]);
            (cBoxes[qi], cBoxes[qj]) = (cBoxes[qj], cBoxes[qi]);
        }
        else
        {
            // A private stream keyed by the clean prompt: the clean prompts (and so accuracies measured on them) are
            // the same whichever counterfactual is asked for.
            var cfRng = new Random(unchecked(seed * 31 + StableHash(Render(objs, boxes, boxes[qi]))));
            (cObjs, cBoxes) = (Sample(cfRng, objects, n), Sample(cfRng, labels, n));
        }
        string clean = Render(objs, boxes, boxes[qi]);
        var meta = new Dictionary<string, string>
        {
            ["task"] = Name, ["template"] = template.Name, ["num_boxes"] = GeneratorKit.S(n),
            ["counterfactual"] = Options.Counterfactual.ToString(),
            ["query_box"] = boxes[qi], ["answer_index"] = GeneratorKit.S(qi),
            ["box_labels"] = string.Join(",", boxes), ["objects"] = string.Join(",", objs),
            ["corrupted_query_box"] = cBoxes[qj], ["corrupted_answer_index"] = GeneratorKit.S(qj),
            ["corrupted_box_labels"] = string.Join(",", cBoxes), ["corrupted_objects"] = string.Join(",", cObjs),
        };
        var ex = new TaskExample(
            template.Apply(TaskFamily.EntityTracking, clean),
            template.Apply(TaskFamily.EntityTracking, Render(cObjs, cBoxes, cBoxes[qj])),
            objs[qi], cObjs[qj], meta);
        return (clean, ex);
    }

    /// <summary>FNV-1a: string.GetHashCode is randomised per process, and the data must not be.</summary>
    private static int StableHash(string text)
    {
        uint h = 2166136261;
        foreach (char c in text) h = (h ^ c) * 16777619;
        return (int)h;
    }

    /// <summary>The prompt text for objects/boxes in segment order and the queried box label.</summary>
    public static string Render(IReadOnlyList<string> objects, IReadOnlyList<string> boxes, string queryBox)
    {
        var segments = objects.Select((o, i) => $"the {o} is in Box {boxes[i]}").ToArray();
        var context = string.Join(", ", segments);
        return "T" + context[1..] + $". Box {queryBox} contains the";
    }

    private static string[] Sample(Random rng, IReadOnlyList<string> vocab, int n)
    {
        var idx = Enumerable.Range(0, vocab.Count).ToArray();
        for (int i = 0; i < n; i++) // partial Fisher–Yates: first n are a uniform sample without replacement
        {
            int j = rng.Next(i, idx.Length);
            (idx[i], idx[j]) = (idx[j], idx[i]);
        }
        return idx.Take(n).Select(i => vocab[i]).ToArray();
    }
}
