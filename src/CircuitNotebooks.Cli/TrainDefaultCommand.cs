using CircuitNotebooks.Models;
using System.CommandLine;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Cli.Tools;
using Spectre.Console;

namespace CircuitNotebooks.Cli;

/// <summary>`train-default`: re-creates the embedded default model in data/models/tiny-neox from its seed.</summary>
internal static class TrainDefaultCommand
{
    public static Command Create(CliContext ctx, Option<bool> verbose)
    {
        var outOpt = new Option<string>("--out") { Description = "Output model directory. Default: data/models/tiny-neox.", HelpName = "dir" };
        var steps = new Option<int?>("--steps") { Description = $"Training steps. Default: {new PretrainSettings().Steps}.", HelpName = "n" };
        var seed = new Option<int?>("--seed") { Description = "Random seed. Default: 1234.", HelpName = "n" };
        var from = new Option<string?>("--from-phase1") { Description = "Skip phase 1: continue from this saved phase-1 model directory (same seed and settings).", HelpName = "dir" };
        var cmd = new Command("train-default", "Train the tiny default model from scratch (about 30 minutes on 2 CPU cores).") { outOpt, steps, seed, from };
        CommandAction.Set(cmd, ctx, verbose, (parse, ct) =>
        {
            var s = new PretrainSettings(Seed: parse.GetValue(seed) ?? 1234, Steps: parse.GetValue(steps) ?? new PretrainSettings().Steps);
            if (s.Steps <= 0) throw CliException.Usage($"--steps must be positive (got {s.Steps}).");
            var dir = parse.GetValue(outOpt) ?? CommonOptions.DefaultModel;
            var progress = new Reproduce.SyncProgress<PretrainProgress>(p =>
                ctx.Out.WriteLine($"step {p.Step}/{p.Steps}  loss {p.Loss:F4}  lr {p.LearningRate:E2}  {p.ExamplesPerSecond:F0} ex/s"));
            var phase1 = parse.GetValue(from);
            using var model = phase1 is not null ? HookedTransformer.FromPretrained(phase1) : DefaultModelRecipe.Train(s, progress, ct);
            if (phase1 is not null) DefaultModelRecipe.ContinueWithEntityPhase(model, s, progress, ct);
            var acc = DefaultModelRecipe.EvaluateSuite(model);
            foreach (var (k, v) in acc) ctx.Out.WriteLine($"{k}: {v:P1}");
            DefaultModelRecipe.Save(model, dir, s, acc);
            ctx.Out.WriteLine($"saved {dir}");
            return 0;
        });
        return cmd;
    }
}
