namespace CircuitNotebooks.Tasks;

/// <summary>Options of <see cref="MulDivGenerator"/>.</summary>
/// <param name="MinFactor">Smallest factor / divisor / quotient.</param>
/// <param name="MaxFactor">Largest factor / divisor / quotient.</param>
/// <param name="MaxProduct">Largest product (and dividend), which keeps answers short enough to be one token.</param>
public sealed record MulDivOptions(int MinFactor = 2, int MaxFactor = 99, int MaxProduct = 999) : ITaskOptions
{
    public void Validate()
    {
        GeneratorKit.CheckRange(nameof(MulDivOptions), MinFactor, MaxFactor);
        if (MinFactor < 1) throw new ArgumentException($"{nameof(MulDivOptions)}: MinFactor must be ≥ 1 (division).");
        if (MaxProduct < MinFactor * MinFactor)
            throw new ArgumentException($"{nameof(MulDivOptions)}: MaxProduct {MaxProduct} < MinFactor² — no example fits.");
    }
}

/// <summary>
/// "a * b =" and exact "p / d =" (p = d·q, answer q), half each. The corrupted prompt changes only the first operand
/// (to a value of the same digit count): for × any other factor, for ÷ another multiple of d, so it stays exact.
/// </summary>
public sealed class MulDivGenerator(string name, MulDivOptions options)
    : UniqueExampleGenerator<MulDivOptions>(name, options)
{
    public MulDivGenerator() : this("muldiv", new MulDivOptions()) { }

    protected override (string? Key, TaskExample Example)? Draw(Random rng, int index, int seed, PromptTemplate template)
    {
        var o = Options;
        bool mul = index % 2 == 0;
        int x = GeneratorKit.Between(rng, o.MinFactor, o.MaxFactor);
        int y = GeneratorKit.Between(rng, o.MinFactor, o.MaxFactor);
        if (x * y > o.MaxProduct) return null;
        int first, second, answer, cFirst, cAnswer;
        if (mul)
        {
            (first, second, answer) = (x, y, x * y);
            var alt = GeneratorKit.OtherWithSameDigits(rng, x, o.MinFactor, Math.Min(o.MaxFactor, o.MaxProduct / y));
            if (alt is null) return null;
            (cFirst, cAnswer) = (alt.Value, alt.Value * y);
        }
        else
        {
            // x = divisor, y = quotient. The corrupted dividend is d·q' with q' another quotient whose dividend has
            // the same digit count as the clean one.
            (first, second, answer) = (x * y, x, y);
            var qs = Enumerable.Range(o.MinFactor, o.MaxFactor - o.MinFactor + 1)
                .Where(q => q != y && x * q <= o.MaxProduct
                            && GeneratorKit.Digits(x * q) == GeneratorKit.Digits(first))
                .ToList();
            if (qs.Count == 0) return null;
            int q2 = qs[rng.Next(qs.Count)];
            (cFirst, cAnswer) = (x * q2, q2);
        }
        char op = mul ? '*' : '/';
        string body(int f) => $"{GeneratorKit.S(f)} {op} {GeneratorKit.S(second)} =";
        var ex = new TaskExample(
            template.Apply(TaskFamily.Arithmetic, body(first)),
            template.Apply(TaskFamily.Arithmetic, body(cFirst)),
            GeneratorKit.S(answer), GeneratorKit.S(cAnswer),
            new Dictionary<string, string>
            {
                ["task"] = Name, ["template"] = template.Name, ["op"] = op.ToString(),
                ["a"] = GeneratorKit.S(first), ["b"] = GeneratorKit.S(second),
                ["corrupted_a"] = GeneratorKit.S(cFirst),
            });
        return (body(first), ex);
    }
}
