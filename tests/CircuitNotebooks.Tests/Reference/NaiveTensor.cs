namespace CircuitNotebooks.Tests.Reference;

/// <summary>
/// A plain row-major double array with a shape: the oracle's only data type, so nothing in the reference path
/// depends on TorchSharp. Compare with a tensor by flattening it (same row-major order).
/// </summary>
public sealed class NaiveTensor
{
    public double[] Data { get; }
    public int[] Shape { get; }

    public NaiveTensor(double[] data, int[] shape)
    {
        long n = 1;
        foreach (var s in shape)
        {
            if (s < 0) throw new ArgumentException($"negative dimension in shape [{string.Join(", ", shape)}]", nameof(shape));
            n *= s;
        }
        if (n != data.Length)
            throw new ArgumentException($"data has {data.Length} elements but shape [{string.Join(", ", shape)}] needs {n}", nameof(data));
        Data = data;
        Shape = (int[])shape.Clone();
    }

    public static NaiveTensor Zeros(params int[] shape)
    {
        long n = 1;
        foreach (var s in shape) n *= s;
        return new NaiveTensor(new double[n], shape);
    }

    public void Deconstruct(out double[] data, out int[] shape) { data = Data; shape = Shape; }

    public int Offset(params int[] index)
    {
        if (index.Length != Shape.Length)
            throw new ArgumentException($"index rank {index.Length} does not match tensor rank {Shape.Length}");
        int off = 0;
        for (int d = 0; d < Shape.Length; d++)
        {
            if ((uint)index[d] >= (uint)Shape[d])
                throw new IndexOutOfRangeException($"index {index[d]} out of range for dim {d} of size {Shape[d]}");
            off = off * Shape[d] + index[d];
        }
        return off;
    }

    public double this[params int[] index]
    {
        get => Data[Offset(index)];
        set => Data[Offset(index)] = value;
    }

    public NaiveTensor Clone() => new((double[])Data.Clone(), Shape);

    public string ShapeString => "[" + string.Join(", ", Shape) + "]";
}
