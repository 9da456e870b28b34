using System.Reflection;

namespace CircuitNotebooks.Interactive.Runner;

/// <summary>
/// What <c>#r "nuget: Name"</c> means in the headless runner: the assemblies of the local build that the package
/// would bring (its own plus the dependencies a notebook uses directly). There is no package download.
/// </summary>
public sealed class PackageMap
{
    private readonly Dictionary<string, Assembly[]> _packages = new(StringComparer.OrdinalIgnoreCase);

    public static PackageMap Default()
    {
        var engine = typeof(CircuitNotebooks.Models.ModelConfig).Assembly;
        var torch = typeof(TorchSharp.torch).Assembly;
        var tokenizers = typeof(Microsoft.ML.Tokenizers.Tokenizer).Assembly;
        var plotly = typeof(Plotly.NET.GenericChart).Assembly;
        var plotlyCs = typeof(Plotly.NET.CSharp.Chart).Assembly;
        var dynObj = typeof(DynamicObj.DynamicObj).Assembly;
        var fsharp = typeof(Microsoft.FSharp.Core.FSharpOption<>).Assembly;
        var deedle = typeof(Deedle.Frame).Assembly;
        var kit = typeof(NotebookKit).Assembly;
        var map = new PackageMap();
        map.Add("CircuitNotebooks", engine, torch, tokenizers);
        map.Add("CircuitNotebooks.Interactive", kit, engine, torch, tokenizers, plotly, plotlyCs, dynObj, fsharp, deedle);
        map.Add("TorchSharp", torch);
        map.Add("TorchSharp-cpu", torch);
        map.Add("TorchSharp-cuda-linux", torch);
        map.Add("TorchSharp-cuda-windows", torch);
        map.Add("Microsoft.ML.Tokenizers", tokenizers);
        map.Add("Plotly.NET", plotly, dynObj, fsharp);
        map.Add("Plotly.NET.CSharp", plotlyCs, plotly, dynObj, fsharp);
        map.Add("Plotly.NET.Interactive", plotly, dynObj, fsharp);
        map.Add("Deedle", deedle, fsharp);
        map.Add("FSharp.Core", fsharp);
        return map;
    }

    /// <summary>Adds or replaces a package (e.g. the CLI mapping its own assemblies).</summary>
    public PackageMap Add(string packageId, params Assembly[] assemblies)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(packageId);
        _packages[packageId] = assemblies;
        return this;
    }

    public IReadOnlyCollection<string> Known => _packages.Keys.Order(StringComparer.OrdinalIgnoreCase).ToArray();

    public bool TryResolve(string packageId, out IReadOnlyList<Assembly> assemblies)
    {
        var found = _packages.TryGetValue(packageId, out var list);
        assemblies = list ?? [];
        return found;
    }
}
