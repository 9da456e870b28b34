using System.Net;
using System.Reflection;
using CircuitNotebooks.Interactive.Display;
using CircuitNotebooks.Interactive.Formatting;
using CircuitNotebooks.Interactive.Html;
using Microsoft.DotNet.Interactive.Formatting;

namespace CircuitNotebooks.Interactive;

/// <summary>
/// Entry point of the notebook layer. <c>extension.dib</c> calls <see cref="Register"/> in a kernel; the headless
/// runner calls it in-process. Both then format values through the same Microsoft.DotNet.Interactive.Formatting
/// registry, so a notebook looks the same in VS Code and in the runner's HTML.
/// <para>
/// Two ways for a type to get notebook output:
/// <list type="number">
/// <item>Types we do not own, or whose output needs charts: an <see cref="INotebookFormatter"/> class (e.g.
/// <c>NotebookFormatter&lt;T&gt;</c>) in this assembly, discovered by <see cref="Register"/>.</item>
/// <item>Engine types, with no notebook dependency: the Formatting package looks for an attribute class NAMED
/// <c>TypeFormatterSourceAttribute</c> (any namespace, may be internal) with a public <c>Type FormatterSourceType</c>
/// property. That source type needs a public parameterless constructor and a public
/// <c>IEnumerable&lt;object&gt; CreateTypeFormatters()</c>; each formatter needs a public <c>string MimeType</c> and a
/// public <c>bool Format(object, TextWriter)</c> (an optional public <c>Type Type</c> narrows what it formats). The
/// lookup is lazy, once per runtime type, and these are "default" formatters: anything registered here or with
/// <c>Formatter.Register</c> wins over them. TorchSharp's <c>Tensor</c> uses exactly this.</item>
/// </list>
/// </para>
/// </summary>
public static class NotebookKit
{
    private static readonly AsyncLocal<IDisplaySink?> ScopedSink = new();
    private static IDisplaySink _defaultSink = new ConsoleDisplaySink();

    /// <summary>
    /// Registers every <see cref="INotebookFormatter"/> in this assembly and in <paramref name="additional"/> with the
    /// Formatting registry. Safe to call again (e.g. after <c>Formatter.ResetToDefault()</c>); returns what it registered.
    /// </summary>
    public static IReadOnlyList<INotebookFormatter> Register(params Assembly[] additional)
    {
        var formatters = Discover([typeof(NotebookKit).Assembly, .. additional]);
        foreach (var formatter in formatters) Register(formatter);
        return formatters;
    }

    /// <summary>Registers one formatter (it takes precedence over convention-based and built-in ones).</summary>
    public static void Register(INotebookFormatter formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        Formatter.Register(formatter.Type, (FormatDelegate<object>)((value, context) => formatter.Format(value, context.Writer)),
                           formatter.MimeType);
    }

    /// <summary>Quick HTML formatter from a delegate, e.g. from a notebook cell.</summary>
    public static void RegisterHtml<T>(Func<T, string> toHtml) => Register(new DelegateFormatter<T>(toHtml));

    /// <summary>All public concrete <see cref="INotebookFormatter"/> types with a parameterless constructor.</summary>
    public static IReadOnlyList<INotebookFormatter> Discover(IEnumerable<Assembly> assemblies) =>
        assemblies.Distinct()
            .SelectMany(a => a.GetTypes())
            .Where(t => t is { IsAbstract: false, IsInterface: false, IsGenericTypeDefinition: false, IsPublic: true }
                        && typeof(INotebookFormatter).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) != null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => (INotebookFormatter)Activator.CreateInstance(t)!)
            .ToArray();

    /// <summary>
    /// Where <see cref="Display"/> and <see cref="DisplayProgress{T}"/> send values: a runner scope if one is active
    /// in this async flow, else the process default (the kernel's display() once extension.dib ran, else the console).
    /// </summary>
    public static IDisplaySink DisplaySink
    {
        get => ScopedSink.Value ?? _defaultSink;
        set => _defaultSink = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Kernel wiring: <paramref name="display"/> shows a value and returns an action that replaces it.</summary>
    public static void UseDisplay(Func<object, Action<object>> display) => DisplaySink = new DelegateDisplaySink(display);

    /// <summary>Routes displays of the current async flow (a runner's notebook) to <paramref name="sink"/> until disposed.</summary>
    public static IDisposable UseDisplayScope(IDisplaySink sink)
    {
        var previous = ScopedSink.Value;
        ScopedSink.Value = sink;
        return new Scope(() => ScopedSink.Value = previous);
    }

    /// <summary>Shows a value through the current sink; the handle updates it in place.</summary>
    public static IDisplayHandle Display(object value) => DisplaySink.Display(value);

    /// <summary>A progress reporter that updates one display (see <see cref="DisplayProgress{T}"/>).</summary>
    public static DisplayProgress<T> Progress<T>(Func<T, object>? render = null) => new(null, render);

    /// <summary>
    /// The <c>#!circuitnotebooks</c> magic: optional <c>--plotly once|every|reset</c>, then shows versions and settings.
    /// </summary>
    public static HtmlFragment Magic(string? plotly = null)
    {
        switch (plotly?.Trim().ToLowerInvariant())
        {
            case null or "":
                break;
            case "once":
                PlotlyEmbedding.EmbedInEveryOutput = false;
                break;
            case "every":
                PlotlyEmbedding.EmbedInEveryOutput = true;
                break;
            case "reset":
                PlotlyEmbedding.Reset();
                break;
            default:
                throw new ArgumentException($"#!circuitnotebooks --plotly: expected once, every or reset but got '{plotly}'", nameof(plotly));
        }
        return Info();
    }

    /// <summary>
    /// The <c>#!circuit-model &lt;dir&gt; [--device cpu|cuda]</c> magic: loads a local Hugging Face model directory
    /// (relative paths resolve against the current directory, the notebook's folder in a kernel) onto a device.
    /// </summary>
    public static CircuitNotebooks.Models.HookedTransformer LoadModel(string directory, string? device = null)
    {
        if (string.IsNullOrWhiteSpace(directory))
            throw new ArgumentException("#!circuit-model needs a model directory, e.g. #!circuit-model ../data/models/tiny-neox", nameof(directory));
        var full = Path.GetFullPath(directory);
        if (!Directory.Exists(full))
            throw new DirectoryNotFoundException($"#!circuit-model: model directory '{directory}' does not exist (resolved to {full}).");
        var dev = string.IsNullOrWhiteSpace(device) ? TorchSharp.torch.CPU : TorchSharp.torch.device(device.Trim());
        return CircuitNotebooks.Models.HookedTransformer.FromPretrained(full, dev);
    }

    /// <summary>Versions and settings, as shown by the magic command.</summary>
    public static HtmlFragment Info()
    {
        static string V(Assembly a) => a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                                       ?? a.GetName().Version?.ToString() ?? "?";
        var rows = new (string, string)[]
        {
            ("CircuitNotebooks", V(typeof(CircuitNotebooks.Models.ModelConfig).Assembly)),
            ("CircuitNotebooks.Interactive", V(typeof(NotebookKit).Assembly)),
            ("TorchSharp", V(typeof(TorchSharp.torch).Assembly)),
            ("plotly.js (embedded)", PlotlyJs.Version),
            ("plotly.js in every chart output", PlotlyEmbedding.EmbedInEveryOutput ? "yes" : "no (once per notebook)"),
        };
        return new HtmlFragment(HtmlTable.Render(["component", "version"], rows.Select(r => (IReadOnlyList<object?>)[r.Item1, r.Item2])));
    }

    private sealed class Scope(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;
        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }
}
