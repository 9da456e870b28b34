namespace CircuitNotebooks.Tasks;

/// <summary>Which part of a composite expression (x ± y) ∘ z a <see cref="CompositeGenerator"/> renders.</summary>
public enum CompositePart
{
    /// <summary>"(61 - 45) * 45 =" → "720"; corrupted changes only z.</summary>
    Full,
    /// <summary>Sub-task: the bracket alone, "61 - 45 =" → "16"; corrupted flips ± as in Add/Sub.</summary>
    Bracket,
    /// <summary>Sub-task: the outer op on the bracket's value, "16 * 45 =" → "720"; corrupted changes only z.</summary>
    Outer,
}

/// <summary>Options of <see cref="CompositeGenerator"/>.</summary>
/// <param name="MinOperand">Smallest x, y.</param>
/// <param name="MaxOperand">Largest x, y.</param>
/// <param name="MinZ">Smallest z.</param>
/// <param name="MaxZ">Largest z.</param>
/// <param name="OuterOps">Outer operators: '*' and/or '/' (division is kept exact: z divides the bracket).</param>
/// <param name="MaxResult">Largest final answer.</param>
public sealed record CompositeOptions(
    int MinOperand = 1, int MaxOperand = 100,
    int MinZ = 2, int MaxZ = 99,
    IReadOnlyList<char>? OuterOps = null,
    int MaxResult = 9999) : ITaskOptions
{
    public IReadOnlyList<char> EffectiveOuterOps => OuterOps is { Count: > 0 } ops ? ops : ['*'];

    public void Validate()
    {
        GeneratorKit.CheckRange(nameof(CompositeOptions) + ".Operand", MinOperand, MaxOperand);
        GeneratorKit.CheckRange(nameof(CompositeOptions) + ".Z", MinZ, MaxZ);
        if (MinOperand < 0 || MinZ < 1) throw new ArgumentException($"{nameof(CompositeOptions)}: operands ≥ 0 and z ≥ 1 required.");
        foreach (var op in EffectiveOuterOps)
            if (op is not ('*' or '/'))
                throw new ArgumentException($"{nameof(CompositeOptions)}: outer op '{op}' is not supported (use '*' or '/').");
    }
}

/// <summary>
/// Composite task (x ± y) ∘ z and its two sub-tasks. All three parts draw the same expressions from the same seed —
/// distinctness is on the full expression — so for equal (count, seed, options) the i-th examples of "composite",
/// "composite-bracket" and "composite-outer" come from the same expression. x &gt; y always, so the bracket (and its
/// ±-flipped corrupted form) is positive; half of the expressions use +, half −.
/// </summary>
public sealed class CompositeGenerator(string name, CompositePart part, CompositeOptions options)
    : UniqueExampleGenerator<CompositeOptions>(name, options)
{
    public CompositePart Part { get; } = part;

    protected override (string? Key, TaskExample Example)? Draw(Random rng, int index, int seed, PromptTemplate template)
    {
        var o = Options;
        var outerOps = o.EffectiveOuterOps;
        int x = GeneratorKit.Between(rng, o.MinOperand, o.MaxOperand);
        int y = GeneratorKit.Between(rng, o.MinOperand, o.MaxOperand);
        if (x == y) return null;
        if (x < y) (x, y) = (y, x);
        bool add = index % 2 == 0;
        char op = add ? '+' : '-', flipped = add ? '-' : '+';
        int v = add ? x + y : x - y, vFlipped = add ? x - y : x + y;
        char outer = outerOps[rng.Next(outerOps.Count)];
        int z = GeneratorKit.Between(rng, o.MinZ, o.MaxZ);
        if (!Fits(v, outer, z)) return null;
        // Corrupted z: same digit count, still fitting (exact and within MaxResult).
        int? z2 = null;
        for (int attempt = 0; attempt < 50 && z2 is null; attempt++)
        {
            var alt = GeneratorKit.OtherWithSameDigits(rng, z, o.MinZ, o.MaxZ);
            if (alt is null) return null;
            if (Fits(v, outer, alt.Value) && Apply(v, outer, alt.Value) != Apply(v, outer, z)) z2 = alt;
        }
        if (z2 is null) return null;
        string S(int n) => GeneratorKit.S(n);
        string full = $"({S(x)} {op} {S(y)}) {outer} {S(z)} =";
        var meta = new Dictionary<string, string>
        {
            ["task"] = Name, ["template"] = template.Name, ["part"] = Part.ToString(),
            ["x"] = S(x), ["y"] = S(y), ["op"] = op.ToString(), ["outer_op"] = outer.ToString(),
            ["z"] = S(z), ["corrupted_z"] = S(z2.Value), ["bracket_value"] = S(v), ["expression"] = full,
        };
        (string clean, string corrupted, int label, int corruptedLabel) = Part switch
        {
            CompositePart.Full => (full, $"({S(x)} {op} {S(y)}) {outer} {S(z2.Value)} =",
                Apply(v, outer, z), Apply(v, outer, z2.Value)),
            CompositePart.Bracket => ($"{S(x)} {op} {S(y)} =", $"{S(x)} {flipped} {S(y)} =", v, vFlipped),
            CompositePart.Outer => ($"{S(v)} {outer} {S(z)} =", $"{S(v)} {outer} {S(z2.Value)} =",
                Apply(v, outer, z), Apply(v, outer, z2.Value)),
            _ => throw new ArgumentOutOfRangeException(nameof(Part), Part, "unknown composite part"),
        };
        var ex = new TaskExample(template.Apply(TaskFamily.Arithmetic, clean),
            template.Apply(TaskFamily.Arithmetic, corrupted), S(label), S(corruptedLabel), meta);
        return (full, ex);
    }

    private bool Fits(int v, char outer, int z) => outer switch
    {
        '*' => (long)v * z <= Options.MaxResult,
        '/' => v % z == 0 && v / z <= Options.MaxResult,
        _ => false,
    };

    private static int Apply(int v, char outer, int z) => outer == '*' ? v * z : v / z;
}
