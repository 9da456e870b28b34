using System.CommandLine;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Cli.Options;
using CircuitNotebooks.Tasks;

namespace CircuitNotebooks.Cli;

/// <summary>Options shared by several commands (same names and help everywhere).</summary>
internal static class CommonOptions
{
    public const string DefaultModel = "data/models/tiny-neox";

    public static Option<string> Model(string? @default = DefaultModel) => new("--model")
    {
        Description = "Local Hugging Face model directory (config.json, *.safetensors, tokenizer)." + (@default is null ? "" : $" Default: {@default}."),
        HelpName = "dir",
    };

    public static Option<string> Device() => new("--device") { Description = "cpu or cuda. Default: cpu.", HelpName = "cpu|cuda" };
    public static Option<string> DType() => new("--dtype") { Description = "Weights dtype: float32, float64, bfloat16, float16. Default: float32.", HelpName = "type" };
    public static Option<string> Task() => new("--task") { Description = "Task: " + string.Join(", ", TaskCatalog.Names) + ". Default: addsub.", HelpName = "name" };
    public static Option<string> Edges() => new("--edges") { Description = "Edges kept in a circuit: a percentage (5%) or a count (200). Default: 5%.", HelpName = "5%|N" };
    public static Option<int?> IgSteps() => new("--ig-steps") { Description = "EAP-IG interpolation steps m. Default: 5.", HelpName = "m" };
    public static Option<int?> Seed() => new("--seed") { Description = "Seed for data and initialisation. Default: 42.", HelpName = "n" };
    public static Option<string> Out(string @default) => new("--out") { Description = $"Output directory. Default: {@default}.", HelpName = "dir" };

    /// <summary>--task must name a task of the engine's <see cref="TaskCatalog"/>.</summary>
    public static void CheckTask(string name)
    {
        if (!TaskCatalog.Contains(name)) throw CliException.Usage($"unknown task '{name}'. Tasks: {string.Join(", ", TaskCatalog.Names)}.");
    }
}
