using System.CommandLine;
using CircuitNotebooks.Tasks;
using Spectre.Console;

namespace CircuitNotebooks.Cli;

/// <summary>`datasets`: writes the tiny suite's train/test splits (CSV + JSONL) shipped in data/datasets.</summary>
internal static class DatasetsCommand
{
    public static Command Create()
    {
        var outOpt = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "data/datasets" };
        var count = new Option<int>("--count") { Description = "Examples per task (90 % train, 10 % test).", DefaultValueFactory = _ => TinySuiteDatasets.DefaultCount };
        var seed = new Option<int>("--seed") { Description = "Generator seed.", DefaultValueFactory = _ => TinySuiteDatasets.DefaultSeed };
        var cmd = new Command("datasets", "Write the tiny task suite's datasets (CSV in the paper's column layout, and JSONL).") { outOpt, count, seed };
        cmd.SetAction(parse =>
        {
            var files = TinySuiteDatasets.Write(parse.GetValue(outOpt)!, parse.GetValue(count), parse.GetValue(seed));
            AnsiConsole.MarkupLine($"[green]wrote[/] {files.Count} files to {Markup.Escape(parse.GetValue(outOpt)!)}");
            return 0;
        });
        return cmd;
    }
}
