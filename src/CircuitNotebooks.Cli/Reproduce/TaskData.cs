using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Cli.Options;
using CircuitNotebooks.Models;
using CircuitNotebooks.Tasks;

namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>A task's examples for one model: generated, filtered to what the tokenizer allows, split 90/10.</summary>
public sealed record TaskData(string Task, IReadOnlyList<TaskExample> Train, IReadOnlyList<TaskExample> Test, ValidationReport Validation)
{
    public static TaskData Create(HookedTransformer model, string task, int count, int seed)
    {
        var (gen, template) = TaskCatalog.Get(task);
        var all = gen.Generate(count, seed, template);
        var valid = TaskValidator.Validate(all, model.Tokenizer!, ValidationMode.Filter, new ValidationOptions(CheckCorruptedLabel: true));
        if (valid.Kept.Count < 2)
            throw CliException.BadInput($"task {task}: the model's tokenizer leaves {valid.Kept.Count} usable examples ({valid.Report}); " +
                "labels must be one token and clean/corrupted prompts the same length. Pick another --task or --model.");
        var split = DatasetSplit.TrainTest(valid.Kept, 0.9, seed);
        var test = split.Test.Count > 0 ? split.Test : split.Train.TakeLast(1).ToList();
        return new TaskData(task, split.Train, test, valid.Report);
    }
}
