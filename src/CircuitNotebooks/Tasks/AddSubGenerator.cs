namespace CircuitNotebooks.Tasks;

/// <summary>Options of <see cref="AddSubGenerator"/>.</summary>
/// <param name="MaxOperand">N of "within N": operands are drawn from [MinOperand, N].</param>
/// <param name="MinOperand">Smallest operand.</param>
/// <param name="BoundSum">
/// Also keep a + b ≤ N so both answers stay within N (fewer distinct answers: useful for a tiny model whose
/// vocabulary holds only the numbers 0..N).
/// </param>
public sealed record AddSubOptions(int MaxOperand = 100, int MinOperand = 0, bool BoundSum = false) : ITaskOptions
{
    public void Validate()
    {
        GeneratorKit.CheckRange(nameof(AddSubOptions), MinOperand, MaxOperand);
        if (MinOperand < 0) throw new ArgumentException($"{nameof(AddSubOptions)}: MinOperand must be ≥ 0 (got {MinOperand}).");
    }
}

/// <summary>
/// "a + b =" / "a - b =" within N. The corrupted prompt flips + and − keeping both operands, so a ≥ b is drawn for
/// every example: then both the clean and the flipped result are non-negative (as in the paper) and the corrupted
/// label is always defined. Exactly half of the examples (the first ⌈count/2⌉ drawn) are additions.
/// </summary>
public sealed class AddSubGenerator(string name, AddSubOptions options)
    : UniqueExampleGenerator<AddSubOptions>(name, options)
{
    public AddSubGenerator(int maxOperand) : this($"addsub{maxOperand}", new AddSubOptions(maxOperand)) { }

    protected override (string? Key, TaskExample Example)? Draw(Random rng, int index, int seed, PromptTemplate template)
    {
        int a = GeneratorKit.Between(rng, Options.MinOperand, Options.MaxOperand);
        int b = GeneratorKit.Between(rng, Options.MinOperand, Options.MaxOperand);
        if (a < b) (a, b) = (b, a);
        if (Options.BoundSum && a + b > Options.MaxOperand) return null;
        bool add = index % 2 == 0;
        char op = add ? '+' : '-', flipped = add ? '-' : '+';
        int clean = add ? a + b : a - b, corrupted = add ? a - b : a + b;
        string body(char o) => $"{GeneratorKit.S(a)} {o} {GeneratorKit.S(b)} =";
        var ex = new TaskExample(
            template.Apply(TaskFamily.Arithmetic, body(op)),
            template.Apply(TaskFamily.Arithmetic, body(flipped)),
            GeneratorKit.S(clean), GeneratorKit.S(corrupted),
            new Dictionary<string, string>
            {
                ["task"] = Name, ["template"] = template.Name,
                ["a"] = GeneratorKit.S(a), ["b"] = GeneratorKit.S(b),
                ["op"] = op.ToString(), ["corrupted_op"] = flipped.ToString(),
            });
        return (body(op), ex);
    }
}
