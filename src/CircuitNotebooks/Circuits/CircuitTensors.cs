using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Circuits;

/// <summary>Bridges between circuits and TorchSharp tensors for attribution (scores in) and faithfulness (mask out).</summary>
public static class CircuitTensors
{
    /// <summary>
    /// Builds a Qkv circuit from an accumulated score tensor of shape [ForwardCount, BackwardCount] (any float dtype,
    /// any device). Entries outside each column's upstream prefix are ignored.
    /// </summary>
    public static Circuit FromScoreTensor(CircuitGraph graph, Tensor scores, CircuitMetadata? metadata = null)
    {
        if (scores.ndim != 2 || scores.shape[0] != graph.ForwardCount || scores.shape[1] != graph.BackwardCount)
            throw new ArgumentException($"scores: expected shape [{graph.ForwardCount}, {graph.BackwardCount}] for graph {graph.ShapeKey}, " +
                $"got [{string.Join(", ", scores.shape)}].", nameof(scores));
        using var scope = NewDisposeScope();
        var data = scores.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        return Circuit.FromScores(graph, data, metadata);
    }

    /// <summary>In-circuit edge mask as a bool tensor [ForwardCount, BackwardCount] (caller disposes).</summary>
    public static Tensor EdgeMask(Circuit circuit, Device? device = null) =>
        tensor(circuit.CopyEdgeMask(), [circuit.Graph.ForwardCount, circuit.Graph.BackwardCount], device: device);

    /// <summary>Scores as a float32 tensor [ForwardCount, BackwardCount] (caller disposes).</summary>
    public static Tensor Scores(Circuit circuit, Device? device = null) =>
        tensor(circuit.CopyScores(), [circuit.Graph.ForwardCount, circuit.Graph.BackwardCount], device: device);

    /// <summary>Real-edge mask of a graph as a bool tensor [ForwardCount, BackwardCount] (caller disposes).</summary>
    public static Tensor RealEdgeMask(CircuitGraph graph, Device? device = null) =>
        tensor(graph.RealEdgeMask(), [graph.ForwardCount, graph.BackwardCount], device: device);
}
