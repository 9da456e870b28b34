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

    /// <summary>Loads the model named by the parameters; single-threaded CPU math is faster for tiny matrices.</summary>
    public const string LoadModel = """
        var model = HookedTransformer.FromPretrained(modelDir, torch.device(device));
        if (model.Tokenizer is null) throw new InvalidDataException($"{modelDir} has no tokenizer.json: the notebook needs one to encode prompts.");
        // Tiny matrices: one thread avoids OpenMP hand-off costs that dominate at this size; real models keep all cores.
        if (model.Device.type == DeviceType.CPU && model.Config.DModel <= 256) torch.set_num_threads(1);
        model
        """;

    /// <summary>
    /// Task examples for any model: the tiny suite's presets for the default model (word-level vocabulary, every
    /// number one token), the paper's generators and prompt template otherwise; examples whose labels are not single
    /// tokens or whose clean/corrupted prompts differ in length are dropped (and counted).
    /// </summary>
    public const string TaskData = """
        static IReadOnlyList<TaskExample> TaskExamples(HookedTransformer model, string task, int count, int seed)
        {
            bool tiny = TinySuite.ByName.ContainsKey(task);
            var generator = tiny ? TinySuite.Get(task) : TaskRegistry.Default.Get(task);
            var template = tiny ? TinySuite.Template : PromptTemplate.Paper;
            // Generate extra: with a real tokenizer some labels span two tokens and are filtered out.
            var validated = TaskValidator.Validate(generator.Generate(count * 2, seed, template), model.Tokenizer!,
                options: new ValidationOptions(CheckCorruptedLabel: true));
            Console.WriteLine($"{task}: {validated.Report}");
            if (validated.Kept.Count < count)
                throw new InvalidOperationException($"{task}: only {validated.Kept.Count} of {count} examples fit this tokenizer.");
            return validated.Kept.Take(count).ToList();
        }
        """;

    /// <summary>EAP-IG circuit discovery as in Wang et al. 2025 (uses the igSteps, edgeFraction and task parameters).</summary>
    public const string DiscoverCircuit = """
        // EAP-IG circuit of the model's current weights on a fixed batch: the top edgeFraction of edges by |score|,
        // pruned to nodes on a path from input to logits, with its faithfulness measured on the same batch.
        Circuit DiscoverCircuit(HookedTransformer m, AttributionBatch probe, string label, string? taskName = null)
        {
            var scores = EdgeAttribution.Compute(m, probe, new AttributionOptions { Method = AttributionMethod.EapIgInputs, Steps = igSteps });
            var all = Circuit.FromScores(CircuitGraph.FromConfig(m.Config), scores.Scores, new CircuitMetadata
            {
                Task = taskName ?? task, Method = $"EAP-IG-inputs(m={igSteps})", Metric = probe.Metric.Name,
                ModelFingerprint = m.Config.Fingerprint, Label = label, IgSteps = igSteps,
            });
            var circuit = CircuitPruning.Prune(CircuitSelection.TopFraction(all, edgeFraction)).Circuit;
            using var evaluator = new FaithfulnessEvaluator(m, probe);
            return circuit.WithMetadata(circuit.Metadata with { Faithfulness = evaluator.Evaluate(circuit.CopyEdgeMask()).Normalized });
        }
        """;

    /// <summary>Usings of the fine-tuning notebooks.</summary>
    public const string FineTuningUsings = """

        using CircuitNotebooks.Models;
        using CircuitNotebooks.Circuits;
        using CircuitNotebooks.Circuits.Attribution;
        using CircuitNotebooks.FineTuning;
        using CircuitNotebooks.FineTuning.Pretraining;
        using CircuitNotebooks.Tasks;
        using CircuitNotebooks.Interactive;
        using CircuitNotebooks.Interactive.Charts;
        using CircuitNotebooks.Interactive.Display;
        using TorchSharp;
        using static TorchSharp.torch;
        """;
}
