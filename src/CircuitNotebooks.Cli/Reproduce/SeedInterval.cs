namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>Mean over seeds with a two-sided 95 % Student-t interval: mean ± t(0.975, n−1) · sd / √n.</summary>
public sealed record SeedInterval(double Mean, double Low, double High, int N)
{
    /// <summary>The interval, or a degenerate one (Low = High = Mean) for a single seed.</summary>
    public static SeedInterval Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("No values to summarise.", nameof(values));
        double mean = values.Average();
        if (values.Count == 1) return new SeedInterval(mean, mean, mean, 1);
        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        double half = TQuantile975(values.Count - 1) * sd / Math.Sqrt(values.Count);
        return new SeedInterval(mean, mean - half, mean + half, values.Count);
    }

    /// <summary>[low, high], or null when one seed leaves the interval undefined.</summary>
    public double[]? Ci95 => N > 1 ? [Low, High] : null;

    // Two-sided 95 % critical values of Student's t for 1..30 degrees of freedom (standard tables).
    private static readonly double[] Table =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>t(0.975, df): the table up to 30, then the Cornish–Fisher expansion around z = 1.96 (error below 1e-3).</summary>
    public static double TQuantile975(int df)
    {
        if (df < 1) throw new ArgumentOutOfRangeException(nameof(df), df, "degrees of freedom must be at least 1");
        if (df <= Table.Length) return Table[df - 1];
        const double z = 1.959964;
        double z3 = z * z * z, z5 = z3 * z * z;
        return z + (z3 + z) / (4.0 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96.0 * df * df);
    }
}
