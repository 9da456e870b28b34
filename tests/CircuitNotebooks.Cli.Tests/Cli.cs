using CircuitNotebooks.Cli.Infrastructure;

namespace CircuitNotebooks.Cli.Tests;

/// <summary>Runs circuitnb in-process, capturing stdout and stderr.</summary>
public static class Cli
{
    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    public static async Task<Result> Run(CancellationToken ct, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = await CliApp.InvokeAsync(args, CliContext.ForWriters(o, e), ct);
        return new Result(code, o.ToString(), e.ToString());
    }

    public static Task<Result> Run(params string[] args) => Run(CancellationToken.None, args);
}

/// <summary>Fresh temporary directories, removed at process exit.</summary>
internal static class TempDirs
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), $"cn-cli-tests-{Environment.ProcessId}");

    static TempDirs() => AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(Root, true); } catch (IOException) { } };

    /// <summary>A path that does not exist yet (the command under test creates it).</summary>
    public static string NewPath(string name) => Path.Combine(Root, $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)]);
}
