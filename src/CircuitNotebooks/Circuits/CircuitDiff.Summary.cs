namespace CircuitNotebooks.Circuits;

[TypeFormatterSource(typeof(SummaryFormatterSource))]
public sealed partial record CircuitDiff : ISummarizable
{
    public ResultSummary Summarize() => ResultSummary.Create($"Circuit change {FromLabel} → {ToLabel}")
        .Add("nodes", $"{NodesFrom} → {NodesTo} (+{AddedNodes.Count} / −{RemovedNodes.Count})")
        .Add("edges", $"{EdgesFrom:N0} → {EdgesTo:N0} (+{AddedEdges.Count:N0} / −{RemovedEdges.Count:N0})")
        .Add("node Jaccard", NodeJaccard)
        .Add("edge Jaccard", EdgeJaccard)
        .Add("weighted edge Jaccard", WeightedEdgeJaccard)
        .Add("edge changes touching a changed node", ShareEdgeChangesTouchingChangedNodes)
        .Build();
}

[TypeFormatterSource(typeof(SummaryFormatterSource))]
public sealed partial record CircuitSeriesComparison : ISummarizable
{
    public ResultSummary Summarize()
    {
        var b = ResultSummary.Create("Circuit series comparison").Add("circuits", VsBase.Count + 1);
        if (VsBase.Count > 0)
        {
            var last = VsBase[^1];
            b.Add("last vs first", $"{last.FromLabel} → {last.ToLabel}")
             .Add("node Jaccard (last vs first)", last.NodeJaccard)
             .Add("edge Jaccard (last vs first)", last.EdgeJaccard)
             .Add("mean node changes per step", VsPrevious.Average(d => (double)d.NodeChanges))
             .Add("mean edge changes per step", VsPrevious.Average(d => (double)d.EdgeChanges));
        }
        return b.Build();
    }
}
