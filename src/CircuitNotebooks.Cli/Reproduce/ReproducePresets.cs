using CircuitNotebooks.Cli.Infrastructure;

namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>Named starting points for `reproduce --preset`; a --config file and command-line options apply on top.</summary>
public static class ReproducePresets
{
    public static readonly string[] Names = ["default", "paper"];

    /// <summary>
    /// Wang et al. 2025's settings, for a real Pythia-1.4B(-deduped) directory given with --model on a GPU: Add/Sub within
    /// 100 (5,000 examples, 90/10 split), EAP-IG over inputs with m = 5, KL at the answer position, top 5 % of edges,
    /// LoRA r = 32 (α = 64) on every linear but the unembedding, batch 8 × 4, 250 steps (≈ 2 epochs) with a checkpoint
    /// every 25 steps (11 circuits, 10 transitions), full FT at lr 8e-6, LoRA at 2e-4, CircuitLoRA on k = 5 critical layers.
    /// Checkpoints of a 1.4B model are large, so only the latest is kept.
    /// </summary>
    public static ReproduceSettings Paper => new()
    {
        Device = "cuda", Task = "addsub100", Steps = 250, CheckpointEvery = 25, IgSteps = 5, Metric = "kl",
        Edges = Options.EdgeBudget.Default, Examples = 5000, AttributionExamples = 64, BatchSize = 8, GradAccumulation = 4,
        LoraRank = 32, CriticalLayers = 5, FullLearningRate = 8e-6, LoraLearningRate = 2e-4, Seeds = 3,
        KeepCheckpoints = false, Out = "out/reproduce-paper",
    };

    public static ReproduceSettings Get(string name) => name switch
    {
        "default" => new ReproduceSettings(),
        "paper" => Paper,
        _ => throw CliException.Usage($"--preset: unknown preset '{name}'. Presets: {string.Join(", ", Names)}."),
    };
}
