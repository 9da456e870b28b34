namespace CircuitNotebooks.FineTuning;

/// <summary>Linear warmup then constant, linear or cosine decay to zero (the Hugging Face schedules).</summary>
public static class LrSchedule
{
    /// <summary>Multiplier of the base learning rate for optimizer step <paramref name="step"/> (1-based) of <paramref name="total"/>.</summary>
    public static double Factor(LrScheduleKind kind, int step, int total, int warmup)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "steps are 1-based");
        int i = step - 1;
        if (i < warmup) return (i + 1) / (double)warmup;
        if (kind == LrScheduleKind.Constant || total <= warmup) return 1.0;
        double progress = (i - warmup) / (double)(total - warmup);
        return kind switch
        {
            LrScheduleKind.Linear => 1.0 - progress,
            LrScheduleKind.Cosine => 0.5 * (1.0 + Math.Cos(Math.PI * progress)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }
}
