namespace CircuitNotebooks.Tasks;

/// <summary>
/// How the two numbers of an LCM pair relate. Every pair of one prompt (shots and query) and the corrupted query
/// pair share the kind, so the few-shot demonstrations show the pattern the query needs.
/// </summary>
public enum LcmPairKind
{
    /// <summary>b = k·a (k ≥ 2), so LCM = b, as in "LCM(20, 160) = 160".</summary>
    Multiple,
    /// <summary>gcd(a, b) = 1, so LCM = a·b.</summary>
    Coprime,
    /// <summary>Any a &lt; b.</summary>
    General,
}

/// <summary>Options of <see cref="LcmGenerator"/>.</summary>
/// <param name="Shots">Solved pairs shown before the query pair.</param>
/// <param name="Kinds">Pair kinds, drawn uniformly per example.</param>
/// <param name="MinOperand">Smallest first number.</param>
/// <param name="MaxOperand">Largest first number.</param>
/// <param name="MaxMultiplier">Largest k of a <see cref="LcmPairKind.Multiple"/> pair.</param>
/// <param name="MaxLcm">Largest LCM (and second number).</param>
public sealed record LcmOptions(
    int Shots = 1,
    IReadOnlyList<LcmPairKind>? Kinds = null,
    int MinOperand = 2, int MaxOperand = 99,
    int MaxMultiplier = 10, int MaxLcm = 999) : ITaskOptions
{
    public IReadOnlyList<LcmPairKind> EffectiveKinds => Kinds is { Count: > 0 } k ? k : [LcmPairKind.Multiple];

    public void Validate()
    {
        if (Shots < 0) throw new ArgumentException($"{nameof(LcmOptions)}: Shots must be ≥ 0 (got {Shots}).");
        GeneratorKit.CheckRange(nameof(LcmOptions) + ".Operand", MinOperand, MaxOperand);
        if (MinOperand < 1) throw new ArgumentException($"{nameof(LcmOptions)}: MinOperand must be ≥ 1.");
        if (MaxMultiplier < 2) throw new ArgumentException($"{nameof(LcmOptions)}: MaxMultiplier must be ≥ 2.");
    }
}

/// <summary>
/// Few-shot LCM: "LCM(20, 160) = 160, LCM(8, 64) =" → "64". The corrupted prompt keeps the shots and replaces the
/// final pair by another pair of the same kind with the same digit counts and a different LCM.
/// </summary>
public sealed class LcmGenerator(string name, LcmOptions options)
    : UniqueExampleGenerator<LcmOptions>(name, options)
{
    public LcmGenerator() : this("lcm", new LcmOptions()) { }

    protected override (string? Key, TaskExample Example)? Draw(Random rng, int _, int seed, PromptTemplate template)
    {
        var o = Options;
        var kinds = o.EffectiveKinds;
        var kind = kinds[rng.Next(kinds.Count)];
        var pairs = new List<(int A, int B)>();
        for (int i = 0; i <= o.Shots; i++)
        {
            var p = DrawPair(rng, kind);
            if (p is null) return null;
            pairs.Add(p.Value);
        }
        var query = pairs[^1];
        (int A, int B)? alt = null;
        for (int attempt = 0; attempt < 50 && alt is null; attempt++)
        {
            var c = DrawPair(rng, kind);
            if (c is { } q && GeneratorKit.Digits(q.A) == GeneratorKit.Digits(query.A)
                && GeneratorKit.Digits(q.B) == GeneratorKit.Digits(query.B)
                && Lcm(q.A, q.B) != Lcm(query.A, query.B))
                alt = q;
        }
        if (alt is null) return null;
        string shots = string.Concat(pairs.Take(o.Shots)
            .Select(p => $"LCM({GeneratorKit.S(p.A)}, {GeneratorKit.S(p.B)}) = {GeneratorKit.S(Lcm(p.A, p.B))}, "));
        string body((int A, int B) q) => $"{shots}LCM({GeneratorKit.S(q.A)}, {GeneratorKit.S(q.B)}) =";
        var ex = new TaskExample(
            template.Apply(TaskFamily.Lcm, body(query)),
            template.Apply(TaskFamily.Lcm, body(alt.Value)),
            GeneratorKit.S(Lcm(query.A, query.B)), GeneratorKit.S(Lcm(alt.Value.A, alt.Value.B)),
            new Dictionary<string, string>
            {
                ["task"] = Name, ["template"] = template.Name, ["kind"] = kind.ToString(),
                ["a"] = GeneratorKit.S(query.A), ["b"] = GeneratorKit.S(query.B),
                ["corrupted_a"] = GeneratorKit.S(alt.Value.A), ["corrupted_b"] = GeneratorKit.S(alt.Value.B),
            });
        return (body(query), ex);
    }

    private (int A, int B)? DrawPair(Random rng, LcmPairKind kind)
    {
        var o = Options;
        int a = GeneratorKit.Between(rng, o.MinOperand, o.MaxOperand);
        switch (kind)
        {
            case LcmPairKind.Multiple:
                int b = a * GeneratorKit.Between(rng, 2, o.MaxMultiplier);
                return b <= o.MaxLcm ? (a, b) : null;
            case LcmPairKind.Coprime:
            case LcmPairKind.General:
                int c = GeneratorKit.Between(rng, o.MinOperand, o.MaxOperand);
                if (c == a) return null;
                var (lo, hi) = a < c ? (a, c) : (c, a);
                if (kind == LcmPairKind.Coprime && Gcd(lo, hi) != 1) return null;
                return Lcm(lo, hi) <= o.MaxLcm ? (lo, hi) : null;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown LCM pair kind");
        }
    }

    internal static int Gcd(int a, int b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }

    internal static int Lcm(int a, int b) => a / Gcd(a, b) * b;
}
