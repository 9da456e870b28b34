namespace CircuitNotebooks.FineTuning;

/// <summary>Reported after every optimizer step (and after step-0 evaluation/checkpoint, with Step = 0).</summary>
public sealed record TrainingProgress(
    int Step, int TotalSteps, double Loss, double LearningRate, double TokensPerSecond, double? EvalAccuracy, string? CheckpointPath);

/// <summary>What a run did. <see cref="Losses"/> holds steps 1..StepsCompleted, including those before a resume.</summary>
public sealed partial record TrainingResult(
    int StepsCompleted,
    int TotalSteps,
    IReadOnlyList<double> Losses,
    IReadOnlyList<EvalPoint> EvalHistory,
    string? LastCheckpoint,
    bool Cancelled,
    int ResumedFromStep,
    IReadOnlyList<double> StepSeconds,
    long TrainedTokens)
{
    public double? FinalEvalAccuracy => EvalHistory.Count > 0 ? EvalHistory[^1].Accuracy : null;
    /// <summary>Real (non-padding) tokens per second of wall time in the steps this call ran.</summary>
    public double TokensPerSecond => StepSeconds.Sum() is > 0 and var s ? TrainedTokens / s : 0;
}

/// <summary>
/// The loss or the gradient norm became NaN or infinite. Training stopped before the optimizer applied that step;
/// <see cref="LastCheckpoint"/> (if any) is the last checkpoint written, untouched.
/// </summary>
public sealed class TrainingDivergedException(int step, double value, string what, string? lastCheckpoint)
    : Exception($"Training diverged at step {step}: {what} is {value}. " +
                (lastCheckpoint is null ? "No checkpoint was written." : $"Last good checkpoint: '{lastCheckpoint}'.") +
                " Lower the learning rate or enable gradient clipping.")
{
    public int Step { get; } = step;
    public double Value { get; } = value;
    public string? LastCheckpoint { get; } = lastCheckpoint;
}
