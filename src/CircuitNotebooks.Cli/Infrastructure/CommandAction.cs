using System.CommandLine;

namespace CircuitNotebooks.Cli.Infrastructure;

/// <summary>
/// Runs a command body and turns whatever escapes it into one "error: …" line on stderr and an exit code
/// (<see cref="CliErrors"/>); the stack trace only with --verbose.
/// </summary>
public static class CommandAction
{
    public static void Set(Command command, CliContext ctx, Option<bool> verbose, Func<ParseResult, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                return await body(parse, ct);
            }
            catch (Exception e)
            {
                var (code, message) = CliErrors.Classify(e);
                ctx.Error.WriteLine($"error: {message}");
                if (parse.GetValue(verbose)) ctx.Error.WriteLine(e.ToString());
                return code;
            }
        });

    public static void Set(Command command, CliContext ctx, Option<bool> verbose, Func<ParseResult, CancellationToken, int> body) =>
        Set(command, ctx, verbose, (p, ct) => Task.Run(() => body(p, ct), CancellationToken.None));
}
