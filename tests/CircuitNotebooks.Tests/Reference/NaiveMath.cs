namespace CircuitNotebooks.Tests.Reference;

/// <summary>Scalar and vector primitives of the oracle, in double precision, written from the formulas.</summary>
public static class NaiveMath
{
    /// <summary>
    /// erf via the all-positive series erf(x) = 2/√π · e^{-x²} · Σ_n (2x²)^n x / (1·3·…·(2n+1)).
    /// No alternating terms, so no cancellation: relative error stays near machine epsilon. Beyond |x| = 6 the
    /// result is ±1 in double (erfc(6) ≈ 2e-17).
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x < 0) return -Erf(-x);
        if (x >= 6) return 1.0;
        double x2 = x * x;
        double term = x, sum = x;
        for (int n = 0; n < 1000; n++)
        {
            term *= 2 * x2 / (2 * n + 3);
            sum += term;
            // Terms grow until n ≈ x², then shrink geometrically; stop once they no longer touch the sum.
            if (n > x2 && term < sum * 1e-18) break;
        }
        return 2.0 / Math.Sqrt(Math.PI) * Math.Exp(-x2) * sum;
    }

    public static double Gelu(double x) => 0.5 * x * (1.0 + Erf(x / Math.Sqrt(2.0)));

    public static double GeluNew(double x) =>
        0.5 * x * (1.0 + Math.Tanh(Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x * x * x)));

    public static double Relu(double x) => x > 0 ? x : 0.0;

    public static double Silu(double x) => x / (1.0 + Math.Exp(-x));

    public static double Activate(CircuitNotebooks.Models.Activation act, double x) => act switch
    {
        CircuitNotebooks.Models.Activation.GeluNew => GeluNew(x),
        CircuitNotebooks.Models.Activation.Gelu => Gelu(x),
        CircuitNotebooks.Models.Activation.Relu => Relu(x),
        CircuitNotebooks.Models.Activation.Silu => Silu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(act), act, "unknown activation"),
    };

    /// <summary>Max-subtracted softmax; a row whose entries are all equal (e.g. all masked) comes out uniform.</summary>
    public static double[] Softmax(double[] row)
    {
        double max = double.NegativeInfinity;
        foreach (var v in row) if (v > max) max = v;
        var e = new double[row.Length];
        double sum = 0;
        for (int i = 0; i < row.Length; i++) { e[i] = Math.Exp(row[i] - max); sum += e[i]; }
        for (int i = 0; i < row.Length; i++) e[i] /= sum;
        return e;
    }

    /// <summary>(x − mean)/sqrt(var + eps)·w + b with the biased (1/n) variance.</summary>
    public static double[] LayerNorm(double[] x, double[] w, double[]? b, double eps)
    {
        int n = x.Length;
        double mean = 0;
        foreach (var v in x) mean += v;
        mean /= n;
        double var = 0;
        foreach (var v in x) var += (v - mean) * (v - mean);
        var /= n;
        double inv = 1.0 / Math.Sqrt(var + eps);
        var y = new double[n];
        for (int i = 0; i < n; i++) y[i] = (x[i] - mean) * inv * w[i] + (b?[i] ?? 0.0);
        return y;
    }

    /// <summary>x / sqrt(mean(x²) + eps)·w.</summary>
    public static double[] RmsNorm(double[] x, double[] w, double eps)
    {
        int n = x.Length;
        double ms = 0;
        foreach (var v in x) ms += v * v;
        ms /= n;
        double inv = 1.0 / Math.Sqrt(ms + eps);
        var y = new double[n];
        for (int i = 0; i < n; i++) y[i] = x[i] * inv * w[i];
        return y;
    }

    /// <summary>
    /// Rotary embedding, "rotate_half" convention (GPT-NeoX / HF Llama), on the first <paramref name="rotaryDim"/>
    /// entries of one head vector; the rest pass through. Pair i is (x[i], x[i + r/2]) at angle pos·base^(−2i/r).
    /// </summary>
    public static double[] Rotary(double[] x, int pos, int rotaryDim, double rotaryBase)
    {
        if (rotaryDim % 2 != 0 || rotaryDim > x.Length)
            throw new ArgumentException($"rotary_dim {rotaryDim} must be even and ≤ head size {x.Length}");
        var y = (double[])x.Clone();
        int half = rotaryDim / 2;
        for (int i = 0; i < half; i++)
        {
            double invFreq = Math.Pow(rotaryBase, -2.0 * i / rotaryDim);
            double angle = pos * invFreq;
            double c = Math.Cos(angle), s = Math.Sin(angle);
            double x1 = x[i], x2 = x[i + half];
            y[i] = x1 * c - x2 * s;
            y[i + half] = x2 * c + x1 * s;
        }
        return y;
    }
}
