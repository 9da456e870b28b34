namespace CircuitNotebooks.FineTuning;

public enum LrScheduleKind { Constant, Linear, Cosine }

/// <summary>Hyper-parameters of one fine-tuning run (full or LoRA). Steps are optimizer updates.</summary>
public sealed record TrainingConfig
{
    /// <summary>Optimizer steps; when null, <see cref="Epochs"/> passes over the training set (rounded up).</summary>
    public int? Steps { get; init; }
    public double Epochs { get; init; } = 1;
    /// <summary>Examples per micro-batch.</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>Micro-batches per optimizer step; the effective batch is BatchSize × GradAccumulation.</summary>
    public int GradAccumulation { get; init; } = 1;
    public double LearningRate { get; init; } = 2e-4;
    public int WarmupSteps { get; init; }
    public LrScheduleKind Schedule { get; init; } = LrScheduleKind.Linear;
    /// <summary>Decoupled (AdamW) weight decay, applied to matrices only (not norms and biases).</summary>
    public double WeightDecay { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double AdamEps { get; init; } = 1e-8;
    /// <summary>Global gradient-norm clip; 0 = off.</summary>
    public double ClipGradNorm { get; init; } = 1.0;
    public int Seed { get; init; } = 42;
    /// <summary>Checkpoint every N steps (plus step 0 and the last step); 0 = only when a run directory is set, at the end.</summary>
    public int CheckpointEvery { get; init; }
    /// <summary>Evaluate every N steps (plus step 0 and the end) when an evaluation set is given; 0 = only at the end.</summary>
    public int EvalEvery { get; init; }
    /// <summary>Micro-batch size for evaluation.</summary>
    public int EvalBatchSize { get; init; } = 32;

    public TrainingConfig Validate()
    {
        void Fail(string field, object value, string rule) =>
            throw new ArgumentException($"TrainingConfig.{field} = {value}: {rule}.");
        if (Steps is int s && s <= 0) Fail(nameof(Steps), s, "must be positive");
        if (Steps is null && (!double.IsFinite(Epochs) || Epochs <= 0)) Fail(nameof(Epochs), Epochs, "must be positive");
        if (BatchSize <= 0) Fail(nameof(BatchSize), BatchSize, "must be positive");
        if (GradAccumulation <= 0) Fail(nameof(GradAccumulation), GradAccumulation, "must be positive");
        if (double.IsNaN(LearningRate) || LearningRate < 0) Fail(nameof(LearningRate), LearningRate, "must be ≥ 0");
        if (WarmupSteps < 0) Fail(nameof(WarmupSteps), WarmupSteps, "must be ≥ 0");
        if (WeightDecay < 0) Fail(nameof(WeightDecay), WeightDecay, "must be ≥ 0");
        if (Beta1 is < 0 or >= 1) Fail(nameof(Beta1), Beta1, "must lie in [0, 1)");
        if (Beta2 is < 0 or >= 1) Fail(nameof(Beta2), Beta2, "must lie in [0, 1)");
        if (ClipGradNorm < 0) Fail(nameof(ClipGradNorm), ClipGradNorm, "must be ≥ 0");
        if (CheckpointEvery < 0) Fail(nameof(CheckpointEvery), CheckpointEvery, "must be ≥ 0");
        if (EvalEvery < 0) Fail(nameof(EvalEvery), EvalEvery, "must be ≥ 0");
        if (EvalBatchSize <= 0) Fail(nameof(EvalBatchSize), EvalBatchSize, "must be positive");
        return this;
    }

    /// <summary>Optimizer steps for a training set of <paramref name="examples"/> examples.</summary>
    public int TotalSteps(int examples) =>
        Steps ?? Math.Max(1, (int)Math.Ceiling(Epochs * examples / ((double)BatchSize * GradAccumulation)));
}
