using static TorchSharp.torch;

namespace CircuitNotebooks.Interactive.Charts;

/// <summary>Tensors to the plain arrays the chart builders take (copied to the CPU as float64).</summary>
public static class TensorData
{
    /// <summary>A 2-D tensor (e.g. one head's attention pattern) as [rows, columns].</summary>
    public static double[,] ToMatrix(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.dim() != 2)
            throw new ArgumentException($"expected a 2-D tensor, got shape [{string.Join(", ", tensor.shape)}]; index it first (e.g. t[0, head]).", nameof(tensor));
        using var scope = NewDisposeScope();
        var values = tensor.detach().to(CPU).to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        int rows = (int)tensor.shape[0], cols = (int)tensor.shape[1];
        var result = new double[rows, cols];
        Buffer.BlockCopy(values, 0, result, 0, values.Length * sizeof(double));
        return result;
    }

    /// <summary>A tensor of any shape flattened to a vector.</summary>
    public static double[] ToVector(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var scope = NewDisposeScope();
        return tensor.detach().to(CPU).to_type(ScalarType.Float64).reshape(-1).contiguous().data<double>().ToArray();
    }
}
