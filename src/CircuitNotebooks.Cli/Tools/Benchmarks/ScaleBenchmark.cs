using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Tools;

/// <summary>A model shape of the scale curve: GPT-NeoX as Pythia uses it (parallel attention + MLP, rotary on a quarter of each head).</summary>
public sealed record ScaleShape(string Name, int Layers, int DModel, int Heads, int DMlp, int Vocab = 50304)
{
    public static readonly ScaleShape Pythia70M = new("pythia-70m", 6, 512, 8, 2048);
    public static readonly ScaleShape Pythia160M = new("pythia-160m", 12, 768, 12, 3072);
    public static readonly ScaleShape Pythia410M = new("pythia-410m", 24, 1024, 16, 4096);
    public static readonly ScaleShape Pythia1_4B = new("pythia-1.4b", 24, 2048, 16, 8192);
    public static IReadOnlyList<ScaleShape> Pythia { get; } = [Pythia70M, Pythia160M, Pythia410M, Pythia1_4B];

    public ModelConfig ToConfig() => new()
    {
        Architecture = Architecture.GptNeoX, NLayers = Layers, DModel = DModel, NHeads = Heads, DMlp = DMlp, DVocab = Vocab,
        NCtx = 2048, Act = Activation.Gelu, Rotary = true, RotaryDim = DModel / Heads / 4, ParallelAttnMlp = true,
    };

    /// <summary>Llama-3-8B's shape, for the extrapolation only (never instantiated: 16 GB of weights in bf16).</summary>
    public static ModelConfig Llama3_8B => new()
    {
        Architecture = Architecture.Llama, NLayers = 32, DModel = 4096, NHeads = 32, NKeyValueHeads = 8, DMlp = 14336,
        DVocab = 128256, NCtx = 8192, Norm = NormKind.RmsNorm, Act = Activation.Silu, Rotary = true, RotaryDim = 128,
        GatedMlp = true, AttnBias = false, AttnOutBias = false, MlpBias = false, RotaryBase = 500000,
    };

    /// <summary>Multiply-adds × 2 per token of one forward: projections, MLP, attention scores at <paramref name="positions"/>, unembedding.</summary>
    public static double ForwardFlopsPerToken(ModelConfig c, int positions)
    {
        double d = c.DModel, q = c.NHeads * c.DHead, kv = c.KvHeads * c.DHead;
        double attn = d * q + 2 * d * kv + q * d;
        double mlp = (c.GatedMlp ? 3 : 2) * d * c.DMlp;
        return 2 * (c.NLayers * (attn + mlp + 2 * positions * q) + d * c.DVocab);
    }
}

/// <summary>One shape's measurements.</summary>
public sealed record ScaleRow(
    string Shape, ModelConfig Config, long Parameters, int Layers, int DModel, long Edges, int NFwd, int NBwd, int Rows, int Positions,
    double ForwardFlopsPerToken, Spread ForwardSeconds, Spread ForwardBackwardSeconds, Spread EapIgSeconds, Spread FaithfulnessSeconds,
    Spread EapIgRatio, Spread FaithfulnessRatio, long DeltaBytesPerToken,
    /// <summary>(tokens, scoring peak bytes, plain forward+backward peak bytes) at each measured batch.</summary>
    IReadOnlyList<(int Tokens, double ScoringPeak, double ForwardBackwardPeak)> Memory)
{
    public int Tokens => Rows * Positions;
    public double EapIgSecondsPerExample => EapIgSeconds.Median / Rows;
    public double ForwardGflops => ForwardFlopsPerToken * Tokens / ForwardSeconds.Median / 1e9;
    /// <summary>Share of a plain forward's FLOPs spent unembedding every position; scoring and faithfulness unembed
    /// only the answer position, which is why their ratios to plain forwards fall at large vocabularies.</summary>
    public double UnembedShare => 2.0 * Config.DModel * Config.DVocab / ForwardFlopsPerToken;
    /// <summary>Scoring peak / (2 × Δ buffer + plain forward+backward peak) at the largest measured batch.</summary>
    public double MemoryRatio
    {
        get
        {
            var (t, s, f) = Memory[^1];
            return s / (2.0 * DeltaBytesPerToken * t + f);
        }
    }
}

public sealed record ScaleOptions
{
    public IReadOnlyList<ScaleShape> Shapes { get; init; } = ScaleShape.Pythia;
    public int Rows { get; init; } = 2;
    public int Positions { get; init; } = 16;
    /// <summary>Interleaved timing rounds per shape (after one warm-up).</summary>
    public int Rounds { get; init; } = 3;
    public int Steps { get; init; } = 5;
    /// <summary>Measure peak memory in a fresh child process with a non-retaining allocator (see <see cref="MemoryProbe"/>);
    /// false measures in this process (only meaningful as a smoke test: the retained heap inflates the peaks).</summary>
    public bool MemoryInChildProcess { get; init; } = true;
}

/// <summary>
/// How the cost of circuit discovery grows with the model: random-initialised models of each shape (f32), a short
/// random paired batch, and per shape the forward, EAP-IG(m) and one faithfulness evaluation (median of interleaved
/// rounds), their ratios to plain forwards and backwards, and peak memory at two batch sizes against
/// 2 × Δ buffer + plain forward + backward.
/// </summary>
public static class ScaleBenchmark
{
    public static IReadOnlyList<ScaleRow> Run(ScaleOptions options, IProgress<string>? progress = null, CancellationToken ct = default)
    {
        var rows = new List<ScaleRow>();
        foreach (var shape in options.Shapes)
        {
            ct.ThrowIfCancellationRequested();
            rows.Add(Measure(shape, options, progress, ct));
        }
        return rows;
    }

    private static ScaleRow Measure(ScaleShape shape, ScaleOptions o, IProgress<string>? progress, CancellationToken ct)
    {
        var cfg = shape.ToConfig();
        // Memory first, in its own process, while this one holds no model: two copies of the largest shape's weights
        // would not fit a 24 GB machine.
        progress?.Report($"{shape.Name}: peak memory at {o.Rows} and {2 * o.Rows} rows × {o.Positions} tokens (child process)");
        int[] sizes = [o.Rows, 2 * o.Rows];
        var spec = new MemoryProbeSpec(cfg, sizes, o.Positions, Steps: 1, Rounds: 1); // the peak is per pass, so EAP's one step shows it
        var m = o.MemoryInChildProcess ? MemoryProbe.RunIsolated(spec, ct) : MemoryProbe.Measure(spec);
        var memory = sizes.Select((rows, i) => (rows * o.Positions, m?.Scoring[i][0] ?? double.NaN, m?.ForwardBackward[i][0] ?? double.NaN)).ToList();

        progress?.Report($"{shape.Name}: initialising {cfg.NLayers}×{cfg.DModel} (random weights, f32)");
        using var model = HookedTransformer.Create(cfg, seed: 0);
        var g = CircuitGraph.FromConfig(cfg);
        var options = new AttributionOptions { Method = AttributionMethod.EapIgInputs, Steps = o.Steps, Cancellation = ct };

        var batch = RandomBatch(cfg, o.Rows, o.Positions, seed: 3);
        progress?.Report($"{shape.Name}: timing {o.Rounds} rounds of forward, forward+backward, EAP-IG(m={o.Steps}), faithfulness");
        var t = AttributionTimings.Measure(model, batch, options, o.Rounds, copiesPerForward: 1);
        return new ScaleRow(shape.Name, cfg, model.ParameterCount, cfg.NLayers, cfg.DModel, g.EdgeCount, g.ForwardCount, g.BackwardCount,
            o.Rows, o.Positions, ScaleShape.ForwardFlopsPerToken(cfg, o.Positions), Spread.Of(t.Forward), Spread.Of(t.ForwardBackward),
            Spread.Of(t.EapIg), Spread.Of(t.Faithfulness), t.EapIgRatio, t.FaithfulnessRatio,
            g.ForwardCount * (long)cfg.DModel * model.DType.ElementSize(), memory);
    }

    /// <summary>Random clean rows; the corrupted rows differ in their second-to-last token; logit difference of two random tokens.</summary>
    internal static AttributionBatch RandomBatch(ModelConfig cfg, int rows, int positions, int seed)
    {
        var gen = new Generator((ulong)seed);
        var clean = randint(0, cfg.DVocab, [rows, positions], dtype: ScalarType.Int64, generator: gen).DetachFromDisposeScope();
        var corrupt = clean.clone().DetachFromDisposeScope();
        using (no_grad()) corrupt[TensorIndex.Colon, positions - 2] = randint(0, cfg.DVocab, [rows], dtype: ScalarType.Int64, generator: gen);
        var rng = new Random(seed);
        long[] Tokens() => Enumerable.Range(0, rows).Select(_ => (long)rng.Next(cfg.DVocab)).ToArray();
        return new AttributionBatch(clean, corrupt, null, Metric.LogitDiff(Tokens(), Tokens()));
    }
}
