using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using CircuitNotebooks.Models;
using static TorchSharp.torch;

namespace CircuitNotebooks.FineTuning;

/// <summary>Evaluation result at one step.</summary>
public sealed record EvalPoint(int Step, double Accuracy);

/// <summary>
/// The JSON beside a checkpoint's tensors. Randomness is a function of (seed, step) — data order from the seed and
/// epoch, dropout reseeded each step — so seed + step is all the RNG state a resume needs.
/// </summary>
public sealed record CheckpointInfo
{
    public int Format { get; init; } = 1;
    public required int Step { get; init; }
    public required int TotalSteps { get; init; }
    /// <summary>Mean answer-token loss of this step (null at step 0).</summary>
    public double? Loss { get; init; }
    public double? EvalAccuracy { get; init; }
    /// <summary>"full" (weights = whole model) or "lora" (weights = adapters A/B only).</summary>
    public required string Mode { get; init; }
    public required int Seed { get; init; }
    public required string ModelFingerprint { get; init; }
    public required TrainingConfig Training { get; init; }
    public LoraConfig? Lora { get; init; }
    /// <summary>Loss of every step 1..Step, so a resumed run reports the whole curve.</summary>
    public required IReadOnlyList<double> Losses { get; init; }
    public IReadOnlyList<EvalPoint> EvalHistory { get; init; } = [];
    public string Rng { get; init; } = "derived: data order = permutation(seed, epoch); dropout seed = f(seed, step)";
    public required string WeightsFile { get; init; }
    public required string OptimizerFile { get; init; }
    public DateTime CreatedUtc { get; init; } = DateTime.UtcNow;

    /// <summary>The step directory this info was read from (not serialized).</summary>
    [JsonIgnore] public string? Directory { get; init; }
}

/// <summary>
/// Writes and reads step checkpoints in a run directory: <c>step-000025/</c> holding checkpoint.json, the weights
/// (whole model, or only LoRA A/B) and the optimizer moments. A step directory appears only complete: it is built
/// under a temporary name and renamed into place.
/// </summary>
public sealed class CheckpointManager
{
    public const string InfoFile = "checkpoint.json";
    private static readonly Regex StepDir = new(@"^step-(\d{6,})$", RegexOptions.CultureInvariant);

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public CheckpointManager(string runDirectory, ITensorStore? store = null, string extension = ".safetensors")
    {
        RunDirectory = runDirectory;
        Store = store ?? new SafetensorsTensorStore();
        Extension = extension;
    }

    public string RunDirectory { get; }
    public ITensorStore Store { get; }
    public string Extension { get; }

    public static string StepDirectoryName(int step) => $"step-{step:D6}";

    /// <summary>Writes one checkpoint; an existing one for the same step is replaced only once the new one is complete.</summary>
    public string Save(CheckpointInfo info, IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor> optimizer)
    {
        Directory.CreateDirectory(RunDirectory);
        string final = Path.Combine(RunDirectory, StepDirectoryName(info.Step));
        string tmp = Path.Combine(RunDirectory, $".{StepDirectoryName(info.Step)}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(tmp);
        try
        {
            var meta = new Dictionary<string, string> { ["step"] = info.Step.ToString(), ["mode"] = info.Mode };
            Store.Save(Path.Combine(tmp, info.WeightsFile), weights, meta);
            Store.Save(Path.Combine(tmp, info.OptimizerFile), optimizer, meta);
            File.WriteAllText(Path.Combine(tmp, InfoFile), JsonSerializer.Serialize(info, Json));
            if (Directory.Exists(final))
            {
                string old = final + $".old-{Guid.NewGuid():N}";
                Directory.Move(final, old);
                Directory.Move(tmp, final);
                Directory.Delete(old, recursive: true);
            }
            else Directory.Move(tmp, final);
            return final;
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
            throw;
        }
    }

    /// <summary>Complete checkpoints of a run, oldest first (temporary and foreign directories are ignored).</summary>
    public static IReadOnlyList<CheckpointInfo> List(string runDirectory)
    {
        if (!Directory.Exists(runDirectory)) return [];
        return Directory.EnumerateDirectories(runDirectory)
            .Where(d => StepDir.IsMatch(Path.GetFileName(d)) && File.Exists(Path.Combine(d, InfoFile)))
            .Select(ReadInfo)
            .OrderBy(i => i.Step)
            .ToList();
    }

    public static CheckpointInfo? Latest(string runDirectory) => List(runDirectory).LastOrDefault();

    public static CheckpointInfo ReadInfo(string stepDirectory)
    {
        string path = Path.Combine(stepDirectory, InfoFile);
        try
        {
            var info = JsonSerializer.Deserialize<CheckpointInfo>(File.ReadAllText(path), Json)
                       ?? throw new InvalidDataException($"'{path}' is empty.");
            return info with { Directory = stepDirectory };
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a valid checkpoint description: {e.Message}", e);
        }
    }

    /// <summary>The weights of a checkpoint (whole model or adapters, see <see cref="CheckpointInfo.Mode"/>); caller owns them.</summary>
    public Dictionary<string, Tensor> LoadWeights(CheckpointInfo info) =>
        Store.Load(Path.Combine(RequireDir(info), info.WeightsFile));

    public Dictionary<string, Tensor> LoadOptimizer(CheckpointInfo info) =>
        Store.Load(Path.Combine(RequireDir(info), info.OptimizerFile));

    /// <summary>
    /// Puts a checkpoint's weights into a model (full checkpoints) or into LoRA adapters attached to the base model
    /// (LoRA checkpoints) — e.g. to analyse the circuit at every checkpoint of a run.
    /// </summary>
    public void LoadInto(CheckpointInfo info, HookedTransformer model, LoraModel? lora = null)
    {
        if (info.ModelFingerprint != model.Config.Fingerprint)
            throw new InvalidOperationException($"Checkpoint '{info.Directory}' was written for another model architecture.");
        if (info.Mode == "lora" && lora is null)
            throw new ArgumentException($"Checkpoint '{info.Directory}' holds LoRA adapters only; attach a LoraModel with its config (info.Lora) and pass it.", nameof(lora));
        var weights = LoadWeights(info);
        try
        {
            if (info.Mode == "lora") lora!.LoadAdapterStateDict(weights, $"checkpoint '{info.Directory}'");
            else model.LoadStateDict(weights, $"checkpoint '{info.Directory}'");
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    private static string RequireDir(CheckpointInfo info) =>
        info.Directory ?? throw new ArgumentException("CheckpointInfo was not read from a step directory.", nameof(info));
}
