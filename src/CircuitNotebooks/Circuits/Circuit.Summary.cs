namespace CircuitNotebooks.Circuits;

[TypeFormatterSource(typeof(SummaryFormatterSource))]
public sealed partial class Circuit : ISummarizable
{
    /// <summary>Provenance, node and edge counts (in circuit / in the graph) and faithfulness when known.</summary>
    public ResultSummary Summarize()
    {
        var m = Metadata;
        return ResultSummary.Create(m.Label is { } label ? $"Circuit ({label})" : "Circuit")
            .Add("task", m.Task)
            .Add("method", m.Method)
            .Add("metric", m.Metric)
            .Add("graph", $"{Graph.ShapeKey}, {Granularity} edges")
            .Add("nodes", $"{NodeCountInCircuit} of {Graph.NodeCount}")
            .Add("edges", $"{EdgeCountInCircuit:N0} of {Graph.EdgeCount:N0} ({100.0 * EdgeCountInCircuit / Graph.EdgeCount:F2} %)")
            .Add("faithfulness", m.Faithfulness)
            .Build();
    }
}

[TypeFormatterSource(typeof(SummaryFormatterSource))]
public sealed partial record PrunedCircuit : ISummarizable
{
    public ResultSummary Summarize() => ResultSummary.Create("Pruned circuit")
        .Add("nodes", $"{NodesBefore} → {NodesAfter}")
        .Add("edges", $"{EdgesBefore:N0} → {EdgesAfter:N0}")
        .Build();
}
