namespace CircuitNotebooks.Tasks;

/// <summary>A deterministic dataset generator: the same (count, seed, template) always gives the same list.</summary>
public interface ITaskGenerator
{
    /// <summary>Registry name, e.g. "addsub100".</summary>
    string Name { get; }

    /// <summary>
    /// Generates <paramref name="count"/> examples, with distinct clean prompts unless the generator's options allow
    /// repeats (small spaces such as geometric sequences). Throws <see cref="InvalidOperationException"/> when the
    /// option ranges cannot supply that many.
    /// </summary>
    IReadOnlyList<TaskExample> Generate(int count, int seed, PromptTemplate template);
}
