using System.CommandLine;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Cli.Tools;
using CircuitNotebooks.Tasks;
using Spectre.Console;

namespace CircuitNotebooks.Cli;

/// <summary>`datasets`: writes the tiny suite's train/test splits (CSV + JSONL) shipped in data/datasets.</summary>
internal static class DatasetsCommand
{
    public static Command Create(CliContext ctx, Option<bool> verbose)
    {
        var outOpt = new Option<string>("--out") { Description = "Output folder. Default: data/datasets.", HelpName = "dir" };
        var count = new Option<int?>("--count") { Description = $"Examples per task (90 % train, 10 % test). Default: {TinySuiteDatasets.DefaultCount}.", HelpName = "n" };
        var seed = new Option<int?>("--seed") { Description = $"Generator seed. Default: {TinySuiteDatasets.DefaultSeed}.", HelpName = "n" };
        var cmd = new Command("datasets", "Write the tiny task suite's datasets (CSV in the paper's column layout, and JSONL).") { outOpt, count, seed };
        CommandAction.Set(cmd, ctx, verbose, (parse, ct) =>
        {
            var dir = parse.GetValue(outOpt) ?? "data/datasets";
            int n = parse.GetValue(count) ?? TinySuiteDatasets.DefaultCount;
            if (n <= 0) throw CliException.Usage($"--count must be positive (got {n}).");
            var files = TinySuiteDatasets.Write(dir, n, parse.GetValue(seed) ?? TinySuiteDatasets.DefaultSeed);
            ctx.Out.MarkupLineInterpolated($"wrote {files.Count} files to {dir}");
            return 0;
        });
        return cmd;
    }
}
