namespace CircuitNotebooks.Interactive.Display;

/// <summary>Where displayed values go: a notebook kernel's output area, the headless runner, or a test.</summary>
public interface IDisplaySink
{
    /// <summary>Shows <paramref name="value"/> as a new output and returns a handle that can replace it in place.</summary>
    IDisplayHandle Display(object value);
}

/// <summary>One displayed output that can be replaced (progress bars, live tables).</summary>
public interface IDisplayHandle
{
    void Update(object value);
}

/// <summary>A sink from delegates; the kernel wiring in extension.dib uses it around the kernel's display().</summary>
public sealed class DelegateDisplaySink(Func<object, Action<object>> display) : IDisplaySink
{
    public IDisplayHandle Display(object value) => new Handle(display(value));

    private sealed class Handle(Action<object> update) : IDisplayHandle
    {
        public void Update(object value) => update(value);
    }
}

/// <summary>Outside any notebook host: writes a one-line text form to the console (never throws).</summary>
public sealed class ConsoleDisplaySink : IDisplaySink
{
    public IDisplayHandle Display(object value)
    {
        Write(value);
        return new Handle();
    }

    private static void Write(object value) => Console.WriteLine(value is Html.HtmlFragment ? "[html output]" : value?.ToString());

    private sealed class Handle : IDisplayHandle
    {
        public void Update(object value) => Write(value);
    }
}
