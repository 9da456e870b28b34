namespace CircuitNotebooks.Tasks;

/// <summary>Options a generator checks before drawing (ranges that can supply examples at all).</summary>
public interface ITaskOptions
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the option when the settings cannot work.</summary>
    void Validate();
}

/// <summary>
/// A generator that draws one example at a time until it has <c>count</c> with distinct keys (see
/// <see cref="GeneratorKit.Unique"/>): each task only says how to draw one example.
/// </summary>
public abstract class UniqueExampleGenerator<TOptions>(string name, TOptions options) : ITaskGenerator where TOptions : ITaskOptions
{
    public string Name { get; } = name;
    public TOptions Options { get; } = options;

    public IReadOnlyList<TaskExample> Generate(int count, int seed, PromptTemplate template)
    {
        Options.Validate();
        ArgumentNullException.ThrowIfNull(template);
        return GeneratorKit.Unique(Name, count, seed, (rng, index) => Draw(rng, index, seed, template));
    }

    /// <summary>
    /// One candidate: its distinctness key (null = exempt) and the example, or null to reject the draw.
    /// <paramref name="index"/> is the number of examples accepted so far (for alternating sub-kinds).
    /// </summary>
    protected abstract (string? Key, TaskExample Example)? Draw(Random rng, int index, int seed, PromptTemplate template);
}
