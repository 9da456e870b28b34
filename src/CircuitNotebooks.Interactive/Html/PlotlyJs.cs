using System.Reflection;

namespace CircuitNotebooks.Interactive.Html;

/// <summary>
/// The plotly.js bundle embedded in this assembly (taken at build time from the Plotly.Blazor package, which ships
/// plotly.js as a file). Pages and notebook outputs embed it inline so charts draw with no network access (the
/// notebooks are meant to run offline and the reports to open from disk).
/// </summary>
public static class PlotlyJs
{
    private static readonly Lazy<(string Name, string Source)> Bundle = new(LoadBundle);

    /// <summary>Manifest resource name, e.g. <c>plotly-3.7.0.min.js</c>.</summary>
    public static string ResourceName => Bundle.Value.Name;

    /// <summary>plotly.js version parsed from the resource name.</summary>
    public static string Version =>
        ResourceName.Replace("plotly-", "", StringComparison.Ordinal).Replace(".min.js", "", StringComparison.Ordinal);

    /// <summary>The minified bundle.</summary>
    public static string Source => Bundle.Value.Source;

    /// <summary>Marker written into every script tag this library emits, so tests and tools can count embeddings.</summary>
    public const string EmbedMarker = "data-circuitnotebooks-plotly";

    /// <summary>
    /// One inline &lt;script&gt; defining <c>window.Plotly</c>. The bundle is UMD: hosts that provide AMD
    /// <c>define</c> or CommonJS <c>module</c> (Jupyter front-ends do) would capture it instead of setting a global,
    /// so those names are shadowed by undefined parameters; an existing <c>window.Plotly</c> is kept.
    /// </summary>
    public static string ScriptTag() =>
        $"<script type=\"text/javascript\" {EmbedMarker}=\"{Version}\">(function(define, module, exports) {{\nif (window.Plotly) return;\n{Source}\n}}).call(window);</script>";

    private static (string, string) LoadBundle()
    {
        var assembly = typeof(PlotlyJs).Assembly;
        var name = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("plotly-", StringComparison.Ordinal) && n.EndsWith(".min.js", StringComparison.Ordinal))
            .OrderByDescending(n => n, StringComparer.Ordinal)
            .FirstOrDefault()
            ?? throw new InvalidOperationException(
                $"{assembly.GetName().Name} {assembly.GetName().Version} has no embedded plotly-*.min.js resource " +
                "(the build takes it from the Plotly.Blazor package; see CircuitNotebooks.Interactive.csproj).");
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        var source = reader.ReadToEnd();
        // An HTML parser ends a script element at "</script" wherever it appears; the bundle has none today, but
        // escaping keeps a future bundle from silently truncating every page.
        source = source.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
        return (name, source);
    }
}
