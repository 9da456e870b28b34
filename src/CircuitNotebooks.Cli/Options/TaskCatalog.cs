using CircuitNotebooks.Tasks;

namespace CircuitNotebooks.Cli.Options;

/// <summary>
/// --task names: the tiny suite (sized for the default model's word-level vocabulary, short prompts) first, then the
/// paper's tasks from <see cref="TaskRegistry"/> (instruction-prefixed prompts, for real checkpoints).
/// </summary>
public static class TaskCatalog
{
    public static IReadOnlyList<string> Names =>
        [.. TinySuite.ByName.Keys, .. TaskRegistry.Default.Names.Where(n => !TinySuite.ByName.ContainsKey(n))];

    public static (ITaskGenerator Generator, PromptTemplate Template) Get(string name)
    {
        if (TinySuite.ByName.TryGetValue(name, out var tiny)) return (tiny(), TinySuite.Template);
        var registry = TaskRegistry.Default;
        if (registry.Contains(name)) return (registry.Get(name), PromptTemplate.Paper);
        throw Cli.Infrastructure.CliException.Usage($"unknown task '{name}'. Tasks: {string.Join(", ", Names)}.");
    }

    public static void Validate(string name) => Get(name);
}
