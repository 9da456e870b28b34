namespace CircuitNotebooks.Interactive.Tests.Notebooks;

/// <summary>
/// The sources of the committed notebooks in notebooks/. Each notebook is written here with <see cref="NotebookBuilder"/>
/// (C# code in raw strings is easier to review and refactor than .ipynb JSON); <c>CommittedNotebooksMatchTheirSources</c>
/// fails when a committed file differs, and rewrites them all when CN_UPDATE_NOTEBOOKS=1.
/// </summary>
internal static class NotebookSources
{
    public static IReadOnlyList<(string Name, Func<NotebookBuilder> Build)> All { get; } =
    [
        ("01-quickstart", Nb01Quickstart.Build),
        ("02-activation-and-path-patching", Nb02Patching.Build),
        ("03-eap-ig-circuit-discovery", Nb03CircuitDiscovery.Build),
        ("04-circuit-dynamics", Nb04CircuitDynamics.Build),
        ("05-circuitlora-vs-lora", Nb05CircuitLoRa.Build),
        ("06-compositional-tasks", Nb06Compositional.Build),
        ("07-entity-tracking", Nb07EntityTracking.Build),
    ];

    /// <summary>
    /// First code cell of every notebook, the same in VS Code, dotnet-repl and the tests: the kernel restores the
    /// package from the folder that notebooks/NuGet.Config names (relative to the notebook, so any clone location
    /// works); the package's extension.dib then loads TorchSharp's native libraries and registers the formatters.
    /// The kernel imports only a few namespaces by default, so the usings are explicit.
    /// </summary>
    public const string Setup = """
        #r "nuget: CircuitNotebooks.Interactive, *-*"
        using System.IO;
        """;

    /// <summary>Markdown shared by every notebook's parameters explanation.</summary>
    public const string ParametersNote = """
        **Parameters.** The next cell is the notebook's only parameter cell (tagged `parameters`, papermill style: the
        test suite and `circuitnb notebook run -p name=value` can override each value). The defaults run on a CPU in a few
        minutes with the tiny model shipped in `data/models/tiny-neox`. To study a real model, point `modelDir` at a
        local Hugging Face checkpoint (GPT-2, Pythia/GPT-NeoX or Llama family; nothing is downloaded) and, on a GPU
        machine with the CUDA build, set `device = "cuda"`.
        """;

    /// <summary>Loads the model named by the parameters, under the engine's thread rule for tiny CPU models.</summary>
    public const string LoadModel = """
        var model = HookedTransformer.FromPretrained(modelDir, torch.device(device));
        if (model.Tokenizer is null) throw new InvalidDataException($"{modelDir} has no tokenizer: the notebook needs one to encode prompts.");
        // Tiny matrices run faster on one thread (OpenMP hand-offs dominate); real models keep all cores.
        var threads = TorchThreads.For(model);
        model
        """;

    /// <summary>Usings of the fine-tuning notebooks.</summary>
    public const string FineTuningUsings = """

        using CircuitNotebooks.Models;
        using CircuitNotebooks.Circuits;
        using CircuitNotebooks.Circuits.Attribution;
        using CircuitNotebooks.FineTuning;
        using CircuitNotebooks.Tasks;
        using CircuitNotebooks.Interactive;
        using CircuitNotebooks.Interactive.Charts;
        using CircuitNotebooks.Interactive.Display;
        using TorchSharp;
        using static TorchSharp.torch;
        """;
}
