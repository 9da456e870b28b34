using System.CommandLine;
using CircuitNotebooks.Cli.Infrastructure;

namespace CircuitNotebooks.Cli;

/// <summary>The circuitnb command tree; tests invoke it in-process through <see cref="InvokeAsync"/>.</summary>
public static class CliApp
{
    public static RootCommand BuildRoot(CliContext ctx)
    {
        var verbose = new Option<bool>("--verbose") { Description = "Show stack traces on errors.", Recursive = true };
        var root = new RootCommand("circuitnb — circuits, patching and fine-tuning dynamics for transformers in .NET.") { verbose };
        root.Subcommands.Add(ReproduceCommand.Create(ctx, verbose));
        root.Subcommands.Add(DiscoverCommand.Create(ctx, verbose));
        root.Subcommands.Add(FinetuneCommand.Create(ctx, verbose));
        root.Subcommands.Add(CompareCommand.Create(ctx, verbose));
        root.Subcommands.Add(NotebookCommand.Create(ctx, verbose));
        root.Subcommands.Add(BenchCommand.Create(ctx, verbose));
        root.Subcommands.Add(TrainDefaultCommand.Create(ctx, verbose));
        root.Subcommands.Add(DatasetsCommand.Create(ctx, verbose));
        return root;
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/>. Parse errors (unknown option, unparsable value, missing argument) print
    /// one "error:" line each and return <see cref="ExitCodes.Usage"/>; cancellation of <paramref name="ct"/> stops
    /// long commands cleanly (<see cref="ExitCodes.Interrupted"/>).
    /// </summary>
    public static async Task<int> InvokeAsync(string[] args, CliContext ctx, CancellationToken ct = default)
    {
        var root = BuildRoot(ctx);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) ctx.Error.WriteLine($"error: {e.Message}");
            var name = parse.CommandResult.Command == root ? "circuitnb" : $"circuitnb {parse.CommandResult.Command.Name}";
            ctx.Error.WriteLine($"Run '{name} --help' for usage.");
            return ExitCodes.Usage;
        }
        var config = new InvocationConfiguration
        {
            Output = ctx.OutWriter, Error = ctx.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null, // Program.cs owns Ctrl+C: the token passed in here
        };
        return await parse.InvokeAsync(config, ct);
    }
}
