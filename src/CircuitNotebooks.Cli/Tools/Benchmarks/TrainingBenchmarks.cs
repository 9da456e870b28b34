using CircuitNotebooks.FineTuning;
using CircuitNotebooks.Models;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Tools;

/// <summary>Training throughput of one fine-tuning mode on the benchmark batch.</summary>
public sealed record TrainingBenchmarkEntry(
    string Name, long TrainableParameters, double TrainableRatio, double MedianStepSeconds, double TokensPerSecond);

/// <summary>Full fine-tuning vs LoRA vs CircuitLoRA-like mixed ranks on one model and batch; step times are medians.</summary>
public sealed record TrainingBenchmarkResult(
    string Model,
    long BaseParameters,
    int BatchSize,
    int SequenceLength,
    int MeasuredSteps,
    int TorchThreads,
    string Device,
    TrainingBenchmarkEntry Full,
    TrainingBenchmarkEntry Lora,
    TrainingBenchmarkEntry CircuitLora)
{
    /// <summary>LoRA step time / full fine-tuning step time (target ≤ 0.8 at d_model ≥ 512).</summary>
    public double LoraToFullStepRatio => Lora.MedianStepSeconds / Full.MedianStepSeconds;
    /// <summary>LoRA / full step time round by round (each round's median step): median and range over rounds.</summary>
    public Spread LoraToFullPerRound { get; init; } = new(double.NaN, double.NaN, double.NaN, 0);
    public Spread CircuitLoraToFullPerRound { get; init; } = new(double.NaN, double.NaN, double.NaN, 0);
    public double CircuitLoraToFullStepRatio => CircuitLora.MedianStepSeconds / Full.MedianStepSeconds;

    public override string ToString() =>
        $"{Model} ({BaseParameters:N0} params), batch {BatchSize}×{SequenceLength} tokens, {MeasuredSteps} timed steps per mode, " +
        $"{TorchThreads} torch thread(s), {Device}\n" +
        string.Join("\n", new[] { Full, Lora, CircuitLora }.Select(e =>
            $"  {e.Name,-28} trainable {e.TrainableParameters,12:N0} ({e.TrainableRatio:P2})  step {e.MedianStepSeconds * 1000,9:F1} ms  {e.TokensPerSecond,10:F0} tok/s")) +
        $"\n  LoRA/full step-time ratio {LoraToFullStepRatio:F3}, CircuitLoRA/full {CircuitLoraToFullStepRatio:F3}";
}

public sealed record TrainingBenchmarkOptions
{
    /// <summary>Model to time; default: a GPT-NeoX-style 4 × 512 model (d_mlp 2048, vocab 4096).</summary>
    public ModelConfig? Model { get; init; }
    public int BatchSize { get; init; } = 8;
    public int SequenceLength { get; init; } = 64;
    /// <summary>Untimed steps at the start of every timed run.</summary>
    public int WarmupSteps { get; init; } = 1;
    /// <summary>Timed steps per mode and round.</summary>
    public int StepsPerRound { get; init; } = 2;
    /// <summary>Rounds over the three modes, interleaved so that load changes on a shared machine hit all alike.</summary>
    public int Rounds { get; init; } = 3;
    /// <summary>Plain LoRA rank (α = 2r) on every linear.</summary>
    public int LoraRank { get; init; } = 16;
    /// <summary>CircuitLoRA-like: (r_o, r_c) with the critical layers below.</summary>
    public int OtherRank { get; init; } = 8;
    public int CriticalRank { get; init; } = 32;
    /// <summary>Critical layers; default: layer 0 and the middle layer.</summary>
    public IReadOnlyList<int>? CriticalLayers { get; init; }
    public int Seed { get; init; } = 0;
    public Device? Device { get; init; }

    public static ModelConfig DefaultModel => new()
    {
        Architecture = Architecture.GptNeoX, NLayers = 4, DModel = 512, NHeads = 8, DMlp = 2048, DVocab = 4096,
        NCtx = 512, Act = Activation.Gelu, Rotary = true, RotaryDim = 16, ParallelAttnMlp = true,
    };
}

public static class TrainingBenchmarks
{
    /// <summary>
    /// Times optimizer steps (forward, backward, clip, AdamW) of full fine-tuning, LoRA and CircuitLoRA-like mixed
    /// ranks on the same model and the same random batch, through the real <see cref="Trainer"/> path.
    /// </summary>
    public static TrainingBenchmarkResult Run(TrainingBenchmarkOptions? options = null, IProgress<string>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var o = options ?? new TrainingBenchmarkOptions();
        var cfg = o.Model ?? TrainingBenchmarkOptions.DefaultModel;
        if (o.StepsPerRound <= 0 || o.Rounds <= 0 || o.WarmupSteps < 0)
            throw new ArgumentException("TrainingBenchmarkOptions: StepsPerRound and Rounds must be positive, WarmupSteps ≥ 0.");
        using var model = HookedTransformer.Create(cfg, o.Seed, o.Device);
        var rng = new Random(o.Seed);
        // Loss on every token after the first: the answer mask does not change the cost of a step.
        var data = Enumerable.Range(0, o.BatchSize).Select(_ => new TrainingExample(
            Enumerable.Range(0, o.SequenceLength).Select(_ => rng.Next(cfg.DVocab)).ToArray(),
            Enumerable.Range(0, o.SequenceLength).Select(i => i > 0).ToArray())).ToList();
        var train = new TrainingConfig
        {
            Steps = o.WarmupSteps + o.StepsPerRound, BatchSize = o.BatchSize, LearningRate = 1e-5,
            Schedule = LrScheduleKind.Constant, Seed = o.Seed,
        };
        long baseParams = model.ParameterCount;

        var critical = o.CriticalLayers ?? [0, cfg.NLayers / 2];
        var modes = new (string Name, LoraConfig? Lora)[]
        {
            ("full fine-tuning", null),
            ($"LoRA r={o.LoraRank}", new LoraConfig { Rank = o.LoraRank, Alpha = 2 * o.LoraRank }),
            ($"CircuitLoRA ({o.OtherRank},{o.CriticalRank})", new LoraConfig { Rank = o.OtherRank, Alpha = 2 * o.OtherRank }
                .WithLayerPlan(critical.Distinct().ToDictionary(l => l, _ => (o.CriticalRank, 2.0 * o.CriticalRank)), learningRate: 2e-5)),
        };
        var times = modes.Select(_ => new List<double>()).ToArray();
        var roundTimes = modes.Select(_ => new double[o.Rounds]).ToArray(); // each round's median step, for per-round ratios
        var trainable = new long[modes.Length];
        for (int round = 0; round < o.Rounds; round++)
            for (int m = 0; m < modes.Length; m++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var lora = modes[m].Lora is { } lc ? LoraModel.Attach(model, lc, o.Seed) : null;
                trainable[m] = lora?.TrainableParameterCount ?? baseParams;
                var r = new Trainer(model, train, lora).Train(data, cancellationToken: cancellationToken);
                var steps = r.StepSeconds.Skip(o.WarmupSteps).ToList();
                times[m].AddRange(steps);
                roundTimes[m][round] = Spread.Of(steps).Median;
                progress?.Report($"round {round + 1}/{o.Rounds} {modes[m].Name}: {string.Join(", ", steps.Select(s => $"{s * 1000:F0}"))} ms/step");
            }
        long tokensPerStep = data.Sum(d => d.Length);
        TrainingBenchmarkEntry Entry(int m)
        {
            double median = Spread.Of(times[m]).Median;
            return new TrainingBenchmarkEntry(modes[m].Name, trainable[m], (double)trainable[m] / baseParams, median, tokensPerStep / median);
        }
        var full = Entry(0);
        var loraEntry = Entry(1);
        var circ = Entry(2);
        return new TrainingBenchmarkResult(
            $"{cfg.Architecture} {cfg.NLayers}×{cfg.DModel} (d_mlp {cfg.DMlp}, vocab {cfg.DVocab})", baseParams,
            o.BatchSize, o.SequenceLength, o.Rounds * o.StepsPerRound, get_num_threads(), model.Device.ToString(), full, loraEntry, circ)
        {
            LoraToFullPerRound = Spread.Ratio(roundTimes[1], roundTimes[0]),
            CircuitLoraToFullPerRound = Spread.Ratio(roundTimes[2], roundTimes[0]),
        };
    }
}
