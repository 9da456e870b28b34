namespace CircuitNotebooks.Tasks;

/// <summary>Options of <see cref="FunctionEvalGenerator"/>.</summary>
/// <param name="MinSlope">Smallest slope m of y = m·x + c.</param>
/// <param name="MaxSlope">Largest slope.</param>
/// <param name="MinIntercept">Smallest intercept c.</param>
/// <param name="MaxIntercept">Largest intercept.</param>
/// <param name="FirstX">First x shown.</param>
/// <param name="Points">Number of x values shown; the y of the last one is the label.</param>
public sealed record FunctionEvalOptions(
    int MinSlope = 1, int MaxSlope = 50,
    int MinIntercept = 0, int MaxIntercept = 199,
    int FirstX = 1, int Points = 4) : ITaskOptions
{
    public void Validate()
    {
        GeneratorKit.CheckRange(nameof(FunctionEvalOptions) + ".Slope", MinSlope, MaxSlope);
        GeneratorKit.CheckRange(nameof(FunctionEvalOptions) + ".Intercept", MinIntercept, MaxIntercept);
        if (MinSlope < 0 || MinIntercept < 0 || FirstX < 0)
            throw new ArgumentException($"{nameof(FunctionEvalOptions)}: slope, intercept and x must be non-negative.");
        if (Points < 2) throw new ArgumentException($"{nameof(FunctionEvalOptions)}: Points must be ≥ 2.");
    }
}

/// <summary>
/// "y=5x+75. Given x=1,2,3,4, y=80,85,90," → "95". The corrupted prompt keeps the slope and uses another intercept
/// (of the same digit count, with all shown y values keeping their digit counts).
/// </summary>
public sealed class FunctionEvalGenerator(string name, FunctionEvalOptions options)
    : UniqueExampleGenerator<FunctionEvalOptions>(name, options)
{
    public FunctionEvalGenerator() : this("function", new FunctionEvalOptions()) { }

    protected override (string? Key, TaskExample Example)? Draw(Random rng, int _, int seed, PromptTemplate template)
    {
        var o = Options;
        var xs = Enumerable.Range(o.FirstX, o.Points).ToArray();
        int m = GeneratorKit.Between(rng, o.MinSlope, o.MaxSlope);
        int c = GeneratorKit.Between(rng, o.MinIntercept, o.MaxIntercept);
        int? c2 = null;
        for (int attempt = 0; attempt < 50 && c2 is null; attempt++)
        {
            var alt = GeneratorKit.OtherWithSameDigits(rng, c, o.MinIntercept, o.MaxIntercept);
            if (alt is null) return null;
            if (xs.All(x => GeneratorKit.Digits(m * x + c) == GeneratorKit.Digits(m * x + alt.Value))) c2 = alt;
        }
        if (c2 is null) return null;
        string body(int icpt) =>
            $"y={GeneratorKit.S(m)}x+{GeneratorKit.S(icpt)}. Given x={string.Join(",", xs.Select(x => GeneratorKit.S(x)))}, " +
            $"y={string.Join(",", xs[..^1].Select(x => GeneratorKit.S(m * x + icpt)))},";
        var ex = new TaskExample(
            template.Apply(TaskFamily.Function, body(c)),
            template.Apply(TaskFamily.Function, body(c2.Value)),
            GeneratorKit.S(m * xs[^1] + c), GeneratorKit.S(m * xs[^1] + c2.Value),
            new Dictionary<string, string>
            {
                ["task"] = Name, ["template"] = template.Name,
                ["slope"] = GeneratorKit.S(m), ["intercept"] = GeneratorKit.S(c),
                ["corrupted_intercept"] = GeneratorKit.S(c2.Value),
            });
        return (body(c), ex);
    }
}
