using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>
/// Rotary position embedding in the "rotate_half" convention of GPT-NeoX and HF Llama: the first
/// <c>rotaryDim</c> dims of each head are split in halves (x1, x2) and rotated pairwise; the rest pass through.
/// </summary>
public sealed class Rotary(int rotaryDim, double theta)
{
    /// <summary>cos and sin of angle pos·θ^(−2i/r), shaped [b, p, 1, r/2], in the given dtype.</summary>
    public (Tensor Cos, Tensor Sin) Angles(Tensor positions, ScalarType dtype)
    {
        int half = rotaryDim / 2;
        var invFreq = pow(theta, -arange(0, half, dtype: ScalarType.Float64, device: positions.device) * 2.0 / rotaryDim);
        var angles = positions.to_type(ScalarType.Float64).unsqueeze(-1) * invFreq; // [b, p, half]
        return (angles.cos().unsqueeze(2).to_type(dtype), angles.sin().unsqueeze(2).to_type(dtype));
    }

    /// <summary>x: [b, p, h, d_head].</summary>
    public Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        int half = rotaryDim / 2;
        long dHead = x.shape[^1];
        var x1 = x[.., .., .., ..half];
        var x2 = x[.., .., .., half..rotaryDim];
        var r1 = x1 * cos - x2 * sin;
        var r2 = x2 * cos + x1 * sin;
        return rotaryDim == dHead ? cat([r1, r2], -1) : cat([r1, r2, x[.., .., .., rotaryDim..]], -1);
    }
}
