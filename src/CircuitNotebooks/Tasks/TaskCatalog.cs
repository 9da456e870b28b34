using CircuitNotebooks.Models;

namespace CircuitNotebooks.Tasks;

/// <summary>A task's examples for one model: generated, filtered to what its tokenizer allows, split train/test.</summary>
public sealed record TaskData(string Task, IReadOnlyList<TaskExample> Train, IReadOnlyList<TaskExample> Test, ValidationReport Validation);

/// <summary>
/// Every task by name: the tiny suite (sized for the default model's word-level vocabulary, short prompts) first, then
/// the paper's tasks from <see cref="TaskRegistry"/> (instruction-prefixed prompts, for real checkpoints). The one
/// place that pairs a name with its generator and prompt template and checks examples against a model's tokenizer.
/// </summary>
public static class TaskCatalog
{
    public static IReadOnlyList<string> Names =>
        [.. TinySuite.ByName.Keys, .. TaskRegistry.Default.Names.Where(n => !TinySuite.ByName.ContainsKey(n))];

    public static bool Contains(string name) => TinySuite.ByName.ContainsKey(name) || TaskRegistry.Default.Contains(name);

    /// <summary>The generator and prompt template of a task; unknown names throw listing every task.</summary>
    public static (ITaskGenerator Generator, PromptTemplate Template) Get(string name)
    {
        if (TinySuite.ByName.TryGetValue(name, out var tiny)) return (tiny(), TinySuite.Template);
        var registry = TaskRegistry.Default;
        if (registry.Contains(name)) return (registry.Get(name), PromptTemplate.Paper);
        throw new KeyNotFoundException($"unknown task '{name}'. Tasks: {string.Join(", ", Names)}.");
    }

    /// <summary>
    /// <paramref name="count"/> examples of <paramref name="task"/> that <paramref name="model"/>'s tokenizer can score:
    /// one-token labels (corrupted labels too) and clean/corrupted prompts of equal length. Generates 4× the count,
    /// since a real tokenizer splits some labels; throws when fewer than <paramref name="count"/> survive.
    /// </summary>
    public static IReadOnlyList<TaskExample> Examples(HookedTransformer model, string task, int count, int seed = DatasetSplit.PaperSeed)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), $"example count must be positive (got {count}).");
        var valid = Validated(model, task, 4 * count, seed);
        if (valid.Kept.Count < count)
            throw new TaskValidationException(valid.Report,
                $"task {task}: only {valid.Kept.Count} of {count} examples fit the model's tokenizer ({valid.Report}); labels must be one token " +
                "and clean/corrupted prompts the same length.");
        return valid.Kept.Take(count).ToList();
    }

    /// <summary>
    /// <paramref name="count"/> generated examples filtered by the tokenizer and split train/test (90/10 by default;
    /// the test set keeps at least one example). Throws when fewer than 2 survive.
    /// </summary>
    public static TaskData Load(HookedTransformer model, string task, int count, int seed = DatasetSplit.PaperSeed, double trainFraction = 0.9)
    {
        var valid = Validated(model, task, count, seed);
        if (valid.Kept.Count < 2)
            throw new TaskValidationException(valid.Report,
                $"task {task}: the model's tokenizer leaves {valid.Kept.Count} usable examples ({valid.Report}); labels must be one token " +
                "and clean/corrupted prompts the same length.");
        var split = DatasetSplit.TrainTest(valid.Kept, trainFraction, seed);
        var test = split.Test.Count > 0 ? split.Test : split.Train.TakeLast(1).ToList();
        return new TaskData(task, split.Train, test, valid.Report);
    }

    private static ValidationResult Validated(HookedTransformer model, string task, int count, int seed)
    {
        var tokenizer = model.Tokenizer ?? throw new InvalidOperationException(
            $"task {task}: the model has no tokenizer; load it with FromPretrained from a folder with tokenizer files.");
        var (generator, template) = Get(task);
        return TaskValidator.Validate(generator.Generate(count, seed, template), tokenizer, ValidationMode.Filter,
            new ValidationOptions(CheckCorruptedLabel: true));
    }
}
