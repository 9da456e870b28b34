using Xunit;

namespace CircuitNotebooks.Tests.Reference;

/// <summary>The oracle's primitives against published values and closed forms.</summary>
public class NaiveMathTests
{
    [Theory]
    // Reference values: CPython math.erf (correctly rounded libm).
    [InlineData(0.1, 0.1124629160182849)]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(2.0, 0.9953222650189527)]
    [InlineData(3.0, 0.9999779095030014)]
    [InlineData(4.0, 0.9999999845827421)]
    [InlineData(-0.5, -0.5204998778130465)]
    [InlineData(0.0, 0.0)]
    [InlineData(10.0, 1.0)]
    public void ErfMatchesKnownValues(double x, double expected) =>
        Assert.Equal(expected, NaiveMath.Erf(x), 1e-15);

    [Fact]
    public void ErfNearZeroIsLinear() =>
        // erf(x) = 2x/√π − O(x³)
        Assert.Equal(2e-10 / Math.Sqrt(Math.PI), NaiveMath.Erf(1e-10), 1e-25);

    [Fact]
    public void ActivationsMatchKnownValues()
    {
        Assert.Equal(0.8413447460685429, NaiveMath.Gelu(1.0), 1e-15);     // Φ(1)
        Assert.Equal(0.8411919906082768, NaiveMath.GeluNew(1.0), 1e-15);
        Assert.Equal(0.7310585786300049, NaiveMath.Silu(1.0), 1e-15);     // σ(1)
        Assert.Equal(-1.0 + 0.8413447460685429, NaiveMath.Gelu(-1.0), 1e-15); // gelu(−x) = gelu(x) − x
        Assert.Equal(0.0, NaiveMath.Relu(-3.0));
        Assert.Equal(2.5, NaiveMath.Relu(2.5));
    }

    [Fact]
    public void SoftmaxRowsSumToOneAndMatchClosedForm()
    {
        var p = NaiveMath.Softmax([0.0, Math.Log(3.0)]);
        Assert.Equal(0.25, p[0], 1e-15);
        Assert.Equal(0.75, p[1], 1e-15);
        var q = NaiveMath.Softmax([1000.0, 999.0, -5.0, NaiveTransformer.MaskedScore]);
        Assert.Equal(1.0, q.Sum(), 1e-15);
        Assert.Equal(0.0, q[3]);
        Assert.Equal(1.0 / (1.0 + Math.Exp(-1.0)), q[0], 1e-12);
    }

    [Fact]
    public void FullyMaskedSoftmaxRowIsUniformNotNaN()
    {
        var p = NaiveMath.Softmax(Enumerable.Repeat(NaiveTransformer.MaskedScore, 4).ToArray());
        Assert.All(p, v => Assert.Equal(0.25, v, 1e-15));
    }

    [Fact]
    public void LayerNormUsesBiasedVariance()
    {
        // x = (1,2,3,6): mean 3, deviations (−2,−1,0,3), biased var 14/4 = 3.5
        double eps = 1e-5, s = 1.0 / Math.Sqrt(3.5 + eps);
        var y = NaiveMath.LayerNorm([1, 2, 3, 6], [1, 2, 1, 1], [0, 0, 0.5, -1], eps);
        Assert.Equal(-2 * s, y[0], 1e-14);
        Assert.Equal(-1 * s * 2, y[1], 1e-14);
        Assert.Equal(0.5, y[2], 1e-14);
        Assert.Equal(3 * s - 1, y[3], 1e-14);
    }

    [Fact]
    public void RmsNormMatchesClosedForm()
    {
        // (1,7): mean square 25 → divide by 5
        var y = NaiveMath.RmsNorm([1, 7], [1, 3], 0);
        Assert.Equal(0.2, y[0], 1e-15);
        Assert.Equal(4.2, y[1], 1e-14);
    }

    [Fact]
    public void RotaryAtPositionZeroIsIdentity()
    {
        double[] x = [0.3, -1.2, 2.0, 0.7, 5.0, -0.1];
        Assert.Equal(x, NaiveMath.Rotary(x, 0, 4, 10000));
    }

    [Fact]
    public void RotaryPreservesNormAndLeavesTailUntouched()
    {
        double[] x = [0.3, -1.2, 2.0, 0.7, 5.0, -0.1];
        var y = NaiveMath.Rotary(x, 7, 4, 10000);
        Assert.Equal(x.Sum(v => v * v), y.Sum(v => v * v), 1e-12);
        Assert.Equal(x[4], y[4]);
        Assert.Equal(x[5], y[5]);
        Assert.NotEqual(x[0], y[0]);
    }

    [Fact]
    public void RotaryPairsFirstAndSecondHalf()
    {
        // r = 4: pairs (x0,x2) at angle pos·1 and (x1,x3) at angle pos·base^(−1/2) = pos/100 for base 10⁴.
        var y = NaiveMath.Rotary([1, 0, 0, 1], 2, 4, 10000);
        Assert.Equal(Math.Cos(2), y[0], 1e-15);
        Assert.Equal(Math.Sin(2), y[2], 1e-15);
        Assert.Equal(-Math.Sin(0.02), y[1], 1e-15);
        Assert.Equal(Math.Cos(0.02), y[3], 1e-15);
    }

    [Fact]
    public void RotaryScoresDependOnlyOnRelativePosition()
    {
        double[] q = [0.5, -1, 0.25, 2], k = [1.5, 0.5, -0.75, 1];
        double Dot(double[] a, double[] b) => a.Zip(b, (u, v) => u * v).Sum();
        double s1 = Dot(NaiveMath.Rotary(q, 5, 4, 10000), NaiveMath.Rotary(k, 2, 4, 10000));
        double s2 = Dot(NaiveMath.Rotary(q, 13, 4, 10000), NaiveMath.Rotary(k, 10, 4, 10000));
        double s3 = Dot(NaiveMath.Rotary(q, 13, 4, 10000), NaiveMath.Rotary(k, 9, 4, 10000));
        Assert.Equal(s1, s2, 1e-12);
        Assert.True(Math.Abs(s1 - s3) > 1e-3);
    }
}
