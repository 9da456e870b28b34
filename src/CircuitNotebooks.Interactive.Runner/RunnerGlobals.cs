using CircuitNotebooks.Interactive.Display;

namespace CircuitNotebooks.Interactive.Runner;

/// <summary>
/// Members visible to notebook code in the headless runner, mirroring the kernel's globals: <c>display(obj)</c>
/// shows a value through the Formatting registry and returns a handle whose <c>Update</c> replaces it.
/// </summary>
public sealed class RunnerGlobals
{
    private readonly IDisplaySink _sink;

    internal RunnerGlobals(IDisplaySink sink, string notebookPath)
    {
        _sink = sink;
        NotebookPath = notebookPath;
    }

    /// <summary>Full path of the notebook being run.</summary>
    public string NotebookPath { get; }

#pragma warning disable IDE1006 // lower-case on purpose: same name as the kernel's display()
    public IDisplayHandle display(object? value) => _sink.Display(value ?? "null");
#pragma warning restore IDE1006
}
