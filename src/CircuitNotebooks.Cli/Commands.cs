using System.CommandLine;

namespace CircuitNotebooks.Cli;

/// <summary>The CLI's subcommands; each lives in its own file.</summary>
internal static class Commands
{
    public static IEnumerable<Command> All() => [ReproduceCommand.Create(), BenchCommand.Create(), TrainDefaultCommand.Create(), DatasetsCommand.Create()];
}
