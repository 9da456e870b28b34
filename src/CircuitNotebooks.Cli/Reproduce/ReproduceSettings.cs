using System.Text.Json;
using System.Text.Json.Serialization;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Cli.Options;

namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>
/// Everything `reproduce` needs. Defaults, then a JSON config file (--config, same names in camelCase), then the
/// options given on the command line. Written to the output folder as config.json; a re-run with the same --out
/// resumes only with the same settings.
/// </summary>
public sealed record ReproduceSettings
{
    /// <summary>"randomlayers" is CircuitLoRA's control: the same ranks on as many randomly drawn layers.</summary>
    public static readonly string[] AllMethods = ["full", "lora", "circuitlora", "randomlayers"];
    public static readonly string[] Metrics = ["kl", "logit_diff"];

    public string Model { get; init; } = "data/models/tiny-neox";
    public string Device { get; init; } = "cpu";
    public string DType { get; init; } = "float32";
    public string Task { get; init; } = "addsub";
    public int Steps { get; init; } = 600;
    public int CheckpointEvery { get; init; } = 60;
    public string[] Methods { get; init; } = AllMethods;
    public EdgeBudget Edges { get; init; } = EdgeBudget.Default;
    public int IgSteps { get; init; } = 5;
    /// <summary>How every circuit of the run is discovered: EAP-IG over inputs with these steps and this edge budget.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DiscoveryOptions DiscoveryOptions => Edges.ApplyTo(new DiscoveryOptions { Method = AttributionMethod.EapIgInputs, Steps = IgSteps });
    /// <summary>Attribution and faithfulness metric: KL to the clean run at the answer position (the paper's), or logit difference.</summary>
    public string Metric { get; init; } = "kl";
    /// <summary>First seed; the data split always uses it, fine-tuning runs use Seed, Seed + 1, … (one per <see cref="Seeds"/>).</summary>
    public int Seed { get; init; } = 42;
    /// <summary>Fine-tuning runs per method with different seeds (order of examples, adapter initialisation); intervals need ≥ 2.</summary>
    public int Seeds { get; init; } = 3;
    public string Out { get; init; } = "out/reproduce";
    /// <summary>
    /// Examples generated for the task (90 % train, 10 % test). With one token per number, Add/Sub is a table of facts:
    /// 2,000 examples (1,800 to train on) overfit and lower held-out accuracy; 10,000 (nearly all 10,100 prompts) lift it.
    /// </summary>
    public int Examples { get; init; } = 10000;
    /// <summary>Examples of the test split that circuits are discovered and evaluated on.</summary>
    public int AttributionExamples { get; init; } = 32;
    public int BatchSize { get; init; } = 32;
    /// <summary>Plain LoRA rank (α = 2r); CircuitLoRA gets (r_o, r_c) with the same parameter count.</summary>
    public int LoraRank { get; init; } = 8;
    /// <summary>CircuitLoRA's critical layers k; null = min(5, layers / 2).</summary>
    public int? CriticalLayers { get; init; }
    public double FullLearningRate { get; init; } = 5e-4;
    public double LoraLearningRate { get; init; } = 4e-3;
    /// <summary>Keep every training checkpoint; false keeps only the latest (full-model checkpoints of big models are large).</summary>
    public bool KeepCheckpoints { get; init; } = true;
    /// <summary>Also compare the union of the composite task's sub-task circuits with its own circuit.</summary>
    public bool Composition { get; init; } = true;

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The settings of a JSON file, over a preset's (<see cref="ReproducePresets"/>) when one is named.</summary>
    public static ReproduceSettings FromJsonFile(string path, string? preset = null)
    {
        if (!File.Exists(path)) throw CliException.Usage($"--config '{path}': file not found.");
        try
        {
            var text = File.ReadAllText(path);
            var own = JsonSerializer.Deserialize<ReproduceSettings>(text, Json)
                      ?? throw CliException.Usage($"--config '{path}': the file is empty.");
            if (preset is null) return own;
            // The file's properties replace the preset's one by one (a plain deserialise would reset the rest to defaults).
            var merged = System.Text.Json.Nodes.JsonNode.Parse(ReproducePresets.Get(preset).ToJson())!.AsObject();
            var file = System.Text.Json.Nodes.JsonNode.Parse(text, documentOptions: new JsonDocumentOptions
                { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!.AsObject();
            foreach (var (name, value) in file) merged[name] = value?.DeepClone();
            return JsonSerializer.Deserialize<ReproduceSettings>(merged.ToJsonString(), Json)!;
        }
        catch (JsonException e)
        {
            throw CliException.Usage($"--config '{path}': {e.Message}");
        }
    }

    /// <summary>Methods in the order they must run (CircuitLoRA needs LoRA's circuits).</summary>
    public IReadOnlyList<string> OrderedMethods => AllMethods.Where(Methods.Contains).ToArray();

    /// <summary>Checks every value; the message names the option.</summary>
    public ReproduceSettings Validate()
    {
        static void Need(bool ok, string message) { if (!ok) throw CliException.Usage(message); }
        Need(Device is "cpu" or "cuda", $"--device must be cpu or cuda (got '{Device}').");
        ModelLoading.ParseDType(DType);
        CommonOptions.CheckTask(Task);
        Need(Steps > 0, $"--steps must be positive (got {Steps}).");
        Need(CheckpointEvery > 0, $"--checkpoint-every must be positive (got {CheckpointEvery}).");
        Need(CheckpointEvery <= Steps, $"--checkpoint-every ({CheckpointEvery}) is larger than --steps ({Steps}): no checkpoint would be analysed.");
        Need(Methods.Length > 0, "--methods is empty; give a comma list of full, lora, circuitlora.");
        foreach (var m in Methods)
            Need(AllMethods.Contains(m), $"--methods: unknown method '{m}'. Methods: {string.Join(", ", AllMethods)}.");
        Need(Methods.Distinct().Count() == Methods.Length, $"--methods lists a method twice ({string.Join(",", Methods)}).");
        foreach (var m in new[] { "circuitlora", "randomlayers" })
            Need(!Methods.Contains(m) || Methods.Contains("lora"),
                $"--methods: {m} needs lora too (its critical layers come from where the LoRA run's circuit changed).");
        Need(Metrics.Contains(Metric), $"--metric must be one of {string.Join(", ", Metrics)} (got '{Metric}').");
        Need(Seeds > 0, $"--seeds must be positive (got {Seeds}).");
        Need(IgSteps > 0, $"--ig-steps must be positive (got {IgSteps}).");
        Need(Examples >= 20, $"examples must be at least 20 (got {Examples}).");
        Need(AttributionExamples > 0, $"attributionExamples must be positive (got {AttributionExamples}).");
        Need(BatchSize > 0, $"batchSize must be positive (got {BatchSize}).");
        Need(GradAccumulation > 0, $"gradAccumulation must be positive (got {GradAccumulation}).");
        Need(LoraRank > 0, $"loraRank must be positive (got {LoraRank}).");
        Need(CriticalLayers is null or > 0, $"criticalLayers must be positive (got {CriticalLayers}).");
        Need(FullLearningRate > 0 && LoraLearningRate > 0, "learning rates must be positive.");
        Need(!string.IsNullOrWhiteSpace(Out), "--out must name a directory.");
        return this;
    }

    /// <summary>Micro-batches per optimiser step (the paper: batch 8 × 4).</summary>
    public int GradAccumulation { get; init; } = 1;

    [JsonIgnore]
    public Tasks.TaskMetric TaskMetric => Metric == "kl" ? Tasks.TaskMetric.Kl : Tasks.TaskMetric.LogitDiff;

    /// <summary>Fine-tuning seeds in run order.</summary>
    public IReadOnlyList<int> SeedList => Enumerable.Range(Seed, Seeds).ToList();

    /// <summary>Settings that change results; a resumed run must match these exactly.</summary>
    public string ResultKey() => (this with { Out = "", Device = "", KeepCheckpoints = true }).ToJson();
}
