using CircuitNotebooks.Circuits;
using CircuitNotebooks.FineTuning;
using CircuitNotebooks.Interactive.Charts;
using CircuitNotebooks.Interactive.Html;
using CircuitNotebooks.Patching;

namespace CircuitNotebooks.Interactive.Formatting;

/// <summary>A patching grid as its diverging heatmap, under a one-line summary.</summary>
public sealed class PatchingResultFormatter : NotebookFormatter<PatchingResult>
{
    protected override bool Format(PatchingResult value, TextWriter writer)
    {
        writer.Write(EngineHtml.Block(value.Summarize().ToHtml(), EngineHtml.Chart(CircuitCharts.Heatmap(value))));
        return true;
    }
}

/// <summary>A circuit: counts and faithfulness, then its drawing (strongest edges), then the node list.</summary>
public sealed class CircuitFormatter : NotebookFormatter<Circuit>
{
    /// <summary>Edges drawn in the circuit chart.</summary>
    public static int MaxEdges { get; set; } = CircuitCharts.DefaultMaxEdges;

    protected override bool Format(Circuit value, TextWriter writer)
    {
        var parts = new List<string> { value.Summarize().ToHtml() };
        if (value.EdgeCountInCircuit > 0) parts.Add(EngineHtml.Chart(CircuitCharts.Graph(value, MaxEdges)));
        parts.Add(EngineHtml.Details($"{value.NodeCountInCircuit} nodes", [string.Join(" ", value.NodesInCircuit())]));
        writer.Write(EngineHtml.Block([.. parts]));
        return true;
    }
}

/// <summary>One circuit change: summary plus per-layer counts of added/removed nodes and edges.</summary>
public sealed class CircuitDiffFormatter : NotebookFormatter<CircuitDiff>
{
    protected override bool Format(CircuitDiff value, TextWriter writer)
    {
        // The extra last row is logits (nodes at layer NLayers).
        int last = value.PerLayer.Count - 1;
        var rows = value.PerLayer.Select(l => (IReadOnlyList<object?>)[l.Layer == last ? "logits" : "L" + l.Layer, l.NodesAdded, l.NodesRemoved, l.EdgesAdded, l.EdgesRemoved]);
        writer.Write(EngineHtml.Block(value.Summarize().ToHtml(),
            HtmlTable.Render(["layer", "nodes +", "nodes −", "edges +", "edges −"], rows)));
        return true;
    }
}

/// <summary>A checkpoint series: the node-vs-edge similarity curve, changes per transition, and the table behind them.</summary>
public sealed class CircuitSeriesFormatter : NotebookFormatter<CircuitSeriesComparison>
{
    protected override bool Format(CircuitSeriesComparison value, TextWriter writer)
    {
        var parts = new List<string> { value.Summarize().ToHtml() };
        if (value.VsBase.Count > 0)
        {
            parts.Add(EngineHtml.Chart(CircuitCharts.Similarity(value)));
            parts.Add(value.ToTable().ToHtml());
        }
        writer.Write(EngineHtml.Block([.. parts]));
        return true;
    }
}

/// <summary>A training run: summary, loss curve and (when evaluated) accuracy curve.</summary>
public sealed class TrainingResultFormatter : NotebookFormatter<TrainingResult>
{
    protected override bool Format(TrainingResult value, TextWriter writer)
    {
        writer.Write(EngineHtml.Block([value.Summarize().ToHtml(), .. CircuitCharts.Training(value).Select(EngineHtml.Chart)]));
        return true;
    }
}
