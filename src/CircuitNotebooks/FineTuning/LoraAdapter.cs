using CircuitNotebooks.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CircuitNotebooks.FineTuning;

/// <summary>
/// Low-rank update ΔW = A B · α/r of one linear map (Hu et al. 2021). A [d_in, r] starts Kaiming-uniform, B [r, d_out]
/// at zero, so a freshly attached adapter leaves the model's output unchanged.
/// </summary>
public sealed class LoraAdapter : ILinearAdapter, IDisposable
{
    public LoraAdapter(int dIn, int dOut, int rank, double alpha, double dropout = 0, Generator? generator = null,
        Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        if (rank <= 0) throw new ArgumentOutOfRangeException(nameof(rank), rank, "LoRA rank must be positive.");
        if (dIn <= 0 || dOut <= 0) throw new ArgumentException($"LoRA dims must be positive, got d_in={dIn}, d_out={dOut}.");
        if (dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must lie in [0, 1).");
        Rank = rank;
        Alpha = alpha;
        Dropout = dropout;
        DIn = dIn;
        DOut = dOut;
        // PEFT's kaiming_uniform_(a=√5) on a [r, d_in] weight: bound = √(1/3)·√(3/fan_in) = 1/√d_in.
        double bound = 1.0 / Math.Sqrt(dIn);
        using var init = torch.empty(dIn, rank, dtype: ScalarType.Float32).uniform_(-bound, bound, generator);
        A = new Parameter(init.to(dtype).to(device ?? CPU).DetachFromDisposeScope());
        B = new Parameter(zeros(rank, dOut, dtype: dtype, device: device ?? CPU).DetachFromDisposeScope());
    }

    public int Rank { get; }
    public double Alpha { get; }
    public double Scale => Alpha / Rank;
    public double Dropout { get; }
    public int DIn { get; }
    public int DOut { get; }
    /// <summary>[d_in, r].</summary>
    public Parameter A { get; }
    /// <summary>[r, d_out].</summary>
    public Parameter B { get; }
    /// <summary>Dropout on the adapter's input applies only while training.</summary>
    public bool Training { get; set; }

    /// <summary>
    /// Generator for dropout masks. A private generator, not torch's global one, so that a resumed run draws the same
    /// masks even when other code (another notebook cell, a parallel test) consumes global randomness meanwhile.
    /// </summary>
    public Generator? DropoutGenerator { get; set; }

    public long ParameterCount => (long)Rank * (DIn + DOut);

    public Tensor Apply(Tensor x)
    {
        if (Training && Dropout > 0) x = ApplyDropout(x);
        // Scale the rank-r intermediate: cheaper than scaling the [.., d_out] output.
        return (x.matmul(A) * Scale).matmul(B);
    }

    private Tensor ApplyDropout(Tensor x)
    {
        if (DropoutGenerator is null) return nn.functional.dropout(x, Dropout, training: true);
        using var u = torch.rand(x.shape, generator: DropoutGenerator, dtype: ScalarType.Float32);
        using var keep = u.ge(Dropout).to(x.dtype).to(x.device);
        return x * keep * (1.0 / (1.0 - Dropout));
    }

    public Tensor DeltaWeight() => A.matmul(B) * Scale;

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }
}
