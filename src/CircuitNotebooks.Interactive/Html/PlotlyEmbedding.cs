namespace CircuitNotebooks.Interactive.Html;

/// <summary>
/// Tracks whether plotly.js was already written into the current document (a notebook session or one rendered
/// page), so it is embedded exactly once. A document scope is ambient (AsyncLocal): the headless runner opens one
/// per notebook run so concurrent runs in one process do not share state; without a scope the process-wide
/// document (a live kernel session) is used.
/// </summary>
public static class PlotlyEmbedding
{
    private sealed class DocumentState
    {
        public bool Embedded;
    }

    private static readonly DocumentState ProcessDocument = new();
    private static readonly AsyncLocal<DocumentState?> Current = new();

    private static DocumentState State => Current.Value ?? ProcessDocument;

    /// <summary>True when every chart output should carry its own copy (robust to cleared outputs, but large).</summary>
    public static bool EmbedInEveryOutput { get; set; }

    /// <summary>Starts a fresh document for the current async flow; dispose to return to the enclosing one.</summary>
    public static IDisposable BeginDocument()
    {
        var previous = Current.Value;
        Current.Value = new DocumentState();
        return new Restore(() => Current.Value = previous);
    }

    /// <summary>Forget that plotly.js was embedded (e.g. after clearing the output that carried it).</summary>
    public static void Reset()
    {
        lock (State) State.Embedded = false;
    }

    /// <summary>The loader script the first time it is asked for in this document, then an empty string.</summary>
    public static string TakeLoaderOnce()
    {
        if (EmbedInEveryOutput) return PlotlyJs.ScriptTag();
        var state = State;
        lock (state)
        {
            if (state.Embedded) return "";
            state.Embedded = true;
        }
        return PlotlyJs.ScriptTag();
    }

    private sealed class Restore(Action action) : IDisposable
    {
        private Action? _action = action;
        public void Dispose() => Interlocked.Exchange(ref _action, null)?.Invoke();
    }
}
