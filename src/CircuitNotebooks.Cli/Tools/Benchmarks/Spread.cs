using System.Diagnostics;
using System.Globalization;

namespace CircuitNotebooks.Cli.Tools;

/// <summary>
/// A measured quantity over several rounds: the median (what the bench compares with its target) and the range,
/// so a reader sees how much the machine moved the number.
/// </summary>
public sealed record Spread(double Median, double Min, double Max, int Rounds)
{
    public static Spread Of(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0) return new Spread(double.NaN, double.NaN, double.NaN, 0);
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return new Spread(median, sorted[0], sorted[^1], n);
    }

    /// <summary>Element-wise ratio of two per-round series (round i of the numerator over round i of the denominator).</summary>
    public static Spread Ratio(IReadOnlyList<double> numerator, IReadOnlyList<double> denominator) =>
        Of(numerator.Zip(denominator, (a, b) => a / b));

    /// <summary>"1.23 [1.10–1.40]": the median, then the range over the rounds.</summary>
    public string Format(string format = "F2") => double.IsNaN(Median)
        ? "n/a"
        : $"{Median.ToString(format, CultureInfo.InvariantCulture)} [{Min.ToString(format, CultureInfo.InvariantCulture)}–{Max.ToString(format, CultureInfo.InvariantCulture)}]";

    public override string ToString() => Format();

    /// <summary><paramref name="calls"/> back-to-back calls of <paramref name="run"/> as one timed run.</summary>
    public static Action Repeated(Action run, int calls) => () => { for (int i = 0; i < calls; i++) run(); };

    /// <summary>
    /// Wall time (seconds) of each run in each of <paramref name="rounds"/> interleaved rounds, after one warm-up of
    /// each: interleaving exposes every run to the same machine noise, so per-round ratios cancel most of it.
    /// Result [run][round].
    /// </summary>
    public static double[][] Time(IReadOnlyList<Action> runs, int rounds)
    {
        foreach (var run in runs) run();
        var times = runs.Select(_ => new double[Math.Max(1, rounds)]).ToArray();
        for (int r = 0; r < Math.Max(1, rounds); r++)
            for (int i = 0; i < runs.Count; i++)
            {
                var sw = Stopwatch.StartNew();
                runs[i]();
                times[i][r] = sw.Elapsed.TotalSeconds;
            }
        return times;
    }
}
