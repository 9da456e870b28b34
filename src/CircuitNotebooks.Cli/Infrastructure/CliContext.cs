using Spectre.Console;

namespace CircuitNotebooks.Cli.Infrastructure;

/// <summary>
/// Where a command writes: results and progress to <see cref="Out"/> (raw text, e.g. help, to <see cref="OutWriter"/>),
/// errors to <see cref="Error"/>.
/// </summary>
public sealed class CliContext(IAnsiConsole output, TextWriter outWriter, TextWriter error)
{
    public IAnsiConsole Out { get; } = output;
    public TextWriter OutWriter { get; } = outWriter;
    public TextWriter Error { get; } = error;

    /// <summary>The real terminal: Spectre's detection for stdout (live progress bars when interactive), plain stderr.</summary>
    public static CliContext ForConsole()
    {
        // Redirected output (a log file, CI) would otherwise wrap the summary table at 80 columns.
        if (Console.IsOutputRedirected) AnsiConsole.Console.Profile.Width = 160;
        return new(AnsiConsole.Console, Console.Out, Console.Error);
    }

    /// <summary>Plain text (no ANSI, not interactive) into writers — for tests and embedding.</summary>
    public static CliContext ForWriters(TextWriter output, TextWriter error)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 160;
        return new CliContext(console, output, error);
    }
}
