namespace CircuitNotebooks.Cli.Infrastructure;

/// <summary>Process exit codes of circuitnb (documented in README "Command line").</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>The work itself failed: training diverged, a notebook cell threw, an unexpected error.</summary>
    public const int Failure = 1;
    /// <summary>Bad command line: unknown option or task, option value out of range, bad config file.</summary>
    public const int Usage = 2;
    /// <summary>An input (model directory, circuit file, notebook) is missing or invalid.</summary>
    public const int BadInput = 3;
    /// <summary>The disk filled up while writing the output.</summary>
    public const int DiskFull = 4;
    /// <summary>Stopped by Ctrl+C / SIGTERM after writing what was complete (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}

/// <summary>An error with a message meant for the user as it stands, and the exit code it maps to.</summary>
public sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;

    public static CliException Usage(string message) => new(ExitCodes.Usage, message);
    public static CliException BadInput(string message, Exception? inner = null) => new(ExitCodes.BadInput, message, inner);
}
