namespace CircuitNotebooks.Circuits.Attribution;

[TypeFormatterSource(typeof(SummaryFormatterSource))]
public sealed partial record EdgeScores : ISummarizable
{
    public ResultSummary Summarize()
    {
        var top = TopEdges(1);
        var b = ResultSummary.Create("Edge attribution scores")
            .Add("examples", Examples)
            .Add("edges", Graph.EdgeCount);
        if (top.Length > 0)
            b.Add("largest |score|", $"{Graph.EdgeName(top[0])} = " +
                                     Scores[top[0]].ToString("G4", System.Globalization.CultureInfo.InvariantCulture));
        return b.Build();
    }
}

[TypeFormatterSource(typeof(SummaryFormatterSource))]
public sealed partial record FaithfulnessResult : ISummarizable
{
    public ResultSummary Summarize() => ResultSummary.Create("Faithfulness")
        .Add("edges", EdgeCount)
        .Add("metric: clean", Clean)
        .Add("metric: corrupted", Corrupted)
        .Add("metric: circuit", Circuit)
        .Add("normalized", Normalized)
        .Build();
}
