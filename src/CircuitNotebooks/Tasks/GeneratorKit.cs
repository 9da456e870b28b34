using System.Globalization;

namespace CircuitNotebooks.Tasks;

/// <summary>Shared mechanics for generators: unique sampling, digit-preserving redraws, invariant formatting.</summary>
internal static class GeneratorKit
{
    /// <summary>
    /// Calls <paramref name="make"/> until <paramref name="count"/> examples with distinct keys exist (a null key
    /// opts that example out of the distinctness check, for task spaces too small to hold count distinct prompts). make gets the
    /// index of the next accepted example (so generators can alternate sub-kinds, e.g. half add / half sub) and may
    /// return null to reject a draw. Accepted examples are shuffled with the same Random at the end, so the result
    /// depends on the seed only.
    /// </summary>
    public static IReadOnlyList<TaskExample> Unique(string name, int count, int seed,
        Func<Random, int, (string? Key, TaskExample Example)?> make, int attemptsPerExample = 500)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var rng = new Random(seed);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<TaskExample>(count);
        long attempts = 0, maxAttempts = Math.Max(1000L, (long)count * attemptsPerExample);
        while (result.Count < count)
        {
            if (++attempts > maxAttempts)
                throw new InvalidOperationException(
                    $"{name}: could only generate {result.Count} distinct examples of the {count} requested " +
                    $"after {maxAttempts} draws; widen the operand ranges or ask for fewer examples.");
            var drawn = make(rng, result.Count);
            if (drawn is { } d && (d.Key is null || seen.Add(d.Key))) result.Add(d.Example);
        }
        Shuffle(result, rng);
        return result;
    }

    public static void Shuffle<T>(IList<T> list, Random rng)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    public static int Digits(long v) => v.ToString(CultureInfo.InvariantCulture).TrimStart('-').Length;

    /// <summary>
    /// A value in [min, max] other than <paramref name="value"/> with the same number of decimal digits, or null if
    /// none exists. Same digit count keeps the corrupted prompt's token count equal to the clean one for digit-wise
    /// and most BPE tokenizers (the validator still checks).
    /// </summary>
    public static int? OtherWithSameDigits(Random rng, int value, int min, int max)
    {
        int d = Digits(value);
        int lo = Math.Max(min, d == 1 ? 0 : Pow10(d - 1));
        int hi = Math.Min(max, Pow10(d) - 1);
        if (value < lo || value > hi) return lo <= hi ? rng.Next(lo, hi + 1) : null;
        if (hi - lo < 1) return null;
        int pick = rng.Next(lo, hi); // [lo, hi-1]; skip over value to stay uniform over the others
        return pick >= value ? pick + 1 : pick;
    }

    public static int Pow10(int e)
    {
        int r = 1;
        for (int i = 0; i < e; i++) r *= 10;
        return r;
    }

    public static string S(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Inclusive uniform draw.</summary>
    public static int Between(Random rng, int min, int max) => rng.Next(min, max + 1);

    public static void CheckRange(string what, int min, int max)
    {
        if (min > max)
            throw new ArgumentException($"{what}: min {min} is greater than max {max}.");
    }
}
