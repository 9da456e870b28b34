using System.Diagnostics;
using System.Globalization;
using System.Net;
using CircuitNotebooks.Interactive.Html;

namespace CircuitNotebooks.Interactive.Display;

/// <summary>
/// <see cref="IProgress{T}"/> that keeps ONE display up to date instead of printing a line per report: the first
/// report creates the display, later ones update it, at most once per <see cref="MinInterval"/>. Dispose (or
/// <see cref="Flush"/>) shows the last report even if it arrived inside the throttle window. Thread-safe: engine
/// loops may report from worker threads.
/// </summary>
public sealed class DisplayProgress<T> : IProgress<T>, IDisposable
{
    private readonly IDisplaySink _sink;
    private readonly Func<T, object> _render;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _gate = new();
    private IDisplayHandle? _handle;
    private TimeSpan _lastShown = TimeSpan.MinValue;
    private bool _hasPending;
    private T _pending = default!;

    /// <param name="sink">Defaults to <see cref="NotebookKit.DisplaySink"/> (the current notebook host).</param>
    /// <param name="render">What to display for a report; defaults to the report itself (formatted by the host).</param>
    public DisplayProgress(IDisplaySink? sink = null, Func<T, object>? render = null, TimeSpan? minInterval = null)
    {
        _sink = sink ?? NotebookKit.DisplaySink;
        _render = render ?? (v => (object?)v ?? "");
        MinInterval = minInterval ?? TimeSpan.FromMilliseconds(250);
    }

    public TimeSpan MinInterval { get; }

    /// <summary>Number of times the display was created or updated (tests, diagnostics).</summary>
    public int Renders { get; private set; }

    public void Report(T value)
    {
        lock (_gate)
        {
            _pending = value;
            _hasPending = true;
            if (_handle != null && _clock.Elapsed - _lastShown < MinInterval) return;
            ShowPending();
        }
    }

    /// <summary>Shows the latest report if it has not been shown yet.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            if (_hasPending) ShowPending();
        }
    }

    public void Dispose() => Flush();

    private void ShowPending()
    {
        var shown = _render(_pending);
        _hasPending = false;
        _lastShown = _clock.Elapsed;
        Renders++;
        if (_handle == null) _handle = _sink.Display(shown);
        else _handle.Update(shown);
    }
}

/// <summary>A labelled progress bar; displays as HTML in notebooks and as text elsewhere.</summary>
public sealed record ProgressBar(string Label, double Current, double Total)
{
    public double Fraction => Total <= 0 ? 0 : Math.Clamp(Current / Total, 0, 1);

    public override string ToString() =>
        $"{Label}: {Current.ToString("G6", CultureInfo.InvariantCulture)}/{Total.ToString("G6", CultureInfo.InvariantCulture)} ({Fraction:P0})";

    public HtmlFragment ToHtml() => new(
        $"<div class=\"cn-progress\"><progress max=\"1\" value=\"{Fraction.ToString("0.####", CultureInfo.InvariantCulture)}\"></progress> " +
        $"<span>{WebUtility.HtmlEncode(ToString())}</span></div>");
}
