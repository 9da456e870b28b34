using Spectre.Console;

namespace CircuitNotebooks.Cli.Infrastructure;

/// <summary>A long phase with a known amount of work (one progress bar).</summary>
public interface IPhase : IDisposable
{
    void Advance(double amount = 1);
    void SetValue(double value);
}

/// <summary>Progress bars and log lines of a long command; implementations must tolerate calls from worker threads.</summary>
public interface IRunReporter
{
    IPhase Phase(string description, double total);
    void Log(string message);
}

/// <summary>Nothing shown (for library use and tests that do not look at progress).</summary>
public sealed class NullReporter : IRunReporter
{
    public static readonly NullReporter Instance = new();
    public IPhase Phase(string description, double total) => new NullPhase();
    public void Log(string message) { }

    private sealed class NullPhase : IPhase
    {
        public void Advance(double amount = 1) { }
        public void SetValue(double value) { }
        public void Dispose() { }
    }
}

/// <summary>
/// Spectre.Console progress bars (description, bar, percentage, elapsed, remaining time) with log lines printed
/// above them. On a non-interactive output (redirected, tests) Spectre prints plain lines instead of redrawing.
/// </summary>
public sealed class SpectreReporter : IRunReporter
{
    private readonly IAnsiConsole _console;
    private readonly ProgressContext _ctx;
    private readonly Action<string>? _journal;

    private SpectreReporter(IAnsiConsole console, ProgressContext ctx, Action<string>? journal)
    {
        _console = console; _ctx = ctx; _journal = journal;
    }

    /// <summary>Runs <paramref name="body"/> with live progress on <paramref name="console"/>; log lines also go to <paramref name="journal"/>.</summary>
    public static T Run<T>(IAnsiConsole console, Action<string>? journal, Func<IRunReporter, T> body) =>
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx => body(new SpectreReporter(console, ctx, journal)));

    public IPhase Phase(string description, double total)
    {
        _journal?.Invoke($"phase: {description}");
        return new SpectrePhase(_ctx.AddTask(Markup.Escape(description), maxValue: Math.Max(total, 1e-9)));
    }

    public void Log(string message)
    {
        _journal?.Invoke(message);
        _console.MarkupLine(Markup.Escape(message));
    }

    private sealed class SpectrePhase(ProgressTask task) : IPhase
    {
        public void Advance(double amount = 1) => task.Increment(amount);
        public void SetValue(double value) => task.Value = value;
        public void Dispose()
        {
            task.Value = task.MaxValue;
            task.StopTask();
        }
    }
}
