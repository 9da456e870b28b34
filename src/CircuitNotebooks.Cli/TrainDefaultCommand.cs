using System.CommandLine;
using CircuitNotebooks.FineTuning.Pretraining;
using Spectre.Console;

namespace CircuitNotebooks.Cli;

/// <summary>`train-default`: re-creates the embedded default model in data/models/tiny-neox from its seed.</summary>
internal static class TrainDefaultCommand
{
    public static Command Create()
    {
        var outOpt = new Option<string>("--out") { Description = "Output model directory.", DefaultValueFactory = _ => "data/models/tiny-neox" };
        var steps = new Option<int>("--steps") { Description = "Training steps.", DefaultValueFactory = _ => new PretrainSettings().Steps };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1234 };
        var cmd = new Command("train-default", "Train the tiny default model from scratch (a few minutes on CPU).") { outOpt, steps, seed };
        cmd.SetAction((parse, ct) =>
        {
            var s = new PretrainSettings(Seed: parse.GetValue(seed), Steps: parse.GetValue(steps));
            var progress = new Progress<PretrainProgress>(p =>
                AnsiConsole.MarkupLine($"step {p.Step}/{p.Steps}  loss {p.Loss:F4}  lr {p.LearningRate:E2}  {p.ExamplesPerSecond:F0} ex/s"));
            using var model = DefaultModelRecipe.Train(s, progress, ct);
            var acc = DefaultModelRecipe.EvaluateSuite(model);
            foreach (var (k, v) in acc) AnsiConsole.MarkupLine($"{k}: {v:P1}");
            DefaultModelRecipe.Save(model, parse.GetValue(outOpt)!, s, acc);
            AnsiConsole.MarkupLine($"[green]saved[/] {parse.GetValue(outOpt)}");
            return Task.FromResult(0);
        });
        return cmd;
    }
}
