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

    /// <summary>
    /// Runs <paramref name="body"/> with live progress on <paramref name="console"/> (plain lines when it is not
    /// interactive: redirected output, CI, tests); log lines also go to <paramref name="journal"/>.
    /// </summary>
    public static T Run<T>(IAnsiConsole console, Action<string>? journal, Func<IRunReporter, T> body) =>
        !console.Profile.Capabilities.Interactive ? body(new PlainReporter(console, journal)) : console.Progress()
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

/// <summary>
/// Progress as plain lines for non-interactive output: a line when a phase starts, at each quarter with the
/// remaining time estimated from the rate so far, and when it ends.
/// </summary>
public sealed class PlainReporter(IAnsiConsole console, Action<string>? journal) : IRunReporter
{
    private readonly object _gate = new();

    public IPhase Phase(string description, double total)
    {
        journal?.Invoke($"phase: {description}");
        Write($"> {description}");
        return new PlainPhase(this, description, total);
    }

    public void Log(string message)
    {
        journal?.Invoke(message);
        Write(message);
    }

    private void Write(string line)
    {
        lock (_gate) console.WriteLine(line);
    }

    private sealed class PlainPhase(PlainReporter owner, string description, double total) : IPhase
    {
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private double _value;
        private int _quarter;
        private bool _done;

        public void Advance(double amount = 1) => SetValue(_value + amount);

        public void SetValue(double value)
        {
            _value = value;
            int q = total <= 0 ? 4 : (int)Math.Floor(4 * Math.Min(1, value / total));
            if (q <= _quarter || q >= 4) return;
            _quarter = q;
            double fraction = value / total, elapsed = _clock.Elapsed.TotalSeconds;
            owner.Write($"  {description}: {fraction:P0}, {elapsed:F0} s elapsed, about {elapsed / fraction * (1 - fraction):F0} s left");
        }

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            owner.Write(_value >= total || _value == 0
                ? $"  {description}: done in {_clock.Elapsed.TotalSeconds:F1} s"
                : $"  {description}: stopped at {_value / total:P0} after {_clock.Elapsed.TotalSeconds:F1} s");
        }
    }
}
