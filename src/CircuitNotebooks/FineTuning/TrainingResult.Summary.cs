namespace CircuitNotebooks.FineTuning;

[TypeFormatterSource(typeof(SummaryFormatterSource))]
public sealed partial record TrainingResult : ISummarizable
{
    public ResultSummary Summarize() => ResultSummary.Create(Cancelled ? "Training run (cancelled)" : "Training run")
        .Add("steps", $"{StepsCompleted} of {TotalSteps}" + (ResumedFromStep > 0 ? $" (resumed at {ResumedFromStep})" : ""))
        .Add("first / last loss", Losses.Count == 0 ? null
            : $"{Losses[0].ToString("G4", System.Globalization.CultureInfo.InvariantCulture)} / {Losses[^1].ToString("G4", System.Globalization.CultureInfo.InvariantCulture)}")
        .Add("eval accuracy", EvalHistory.Count == 0 ? null
            : EvalHistory.Count <= 3 ? string.Join(" → ", EvalHistory.Select(e => $"{e.Accuracy:P1} @ {e.Step}"))
            : $"{EvalHistory[0].Accuracy:P1} @ {EvalHistory[0].Step} → {EvalHistory[^1].Accuracy:P1} @ {EvalHistory[^1].Step} " +
              $"(best {EvalHistory.Max(e => e.Accuracy):P1}, {EvalHistory.Count} evaluations)")
        .Add("tokens / s", TokensPerSecond)
        .Add("last checkpoint", LastCheckpoint)
        .Build();
}

[TypeFormatterSource(typeof(SummaryFormatterSource))]
public sealed partial class LoraModel : ISummarizable
{
    public ResultSummary Summarize()
    {
        var ranks = Modules.GroupBy(m => m.Target.Layer).OrderBy(g => g.Key)
            .Select(g => $"{g.Key}:{string.Join("/", g.Select(m => m.Adapter.Rank).Distinct())}");
        return ResultSummary.Create("LoRA adapters")
            .Add("adapters", Modules.Count)
            .Add("rank per layer", string.Join(" ", ranks))
            .Add("trainable parameters", TrainableParameterCount)
            .Add("of base parameters", $"{TrainableRatio:P2}")
            .Add("state", !IsAttached ? "detached" : IsMerged ? "merged" : "attached")
            .Build();
    }
}

[TypeFormatterSource(typeof(SummaryFormatterSource))]
public sealed partial record LoraRankPlan : ISummarizable
{
    public ResultSummary Summarize() => ResultSummary.Create("CircuitLoRA rank plan")
        .Add("critical layers", string.Join(", ", CriticalLayers))
        .Add("rank critical / other", $"{CriticalRank} / {OtherRank}")
        .Build();
}
