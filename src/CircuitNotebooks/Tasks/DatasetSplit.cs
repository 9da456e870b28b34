namespace CircuitNotebooks.Tasks;

/// <summary>A train/test partition of a dataset.</summary>
public sealed record DatasetSplit<T>(IReadOnlyList<T> Train, IReadOnlyList<T> Test);

public static class DatasetSplit
{
    /// <summary>The paper's split seed.</summary>
    public const int PaperSeed = 42;

    /// <summary>
    /// Shuffles with <c>new Random(seed)</c> (Fisher–Yates) and takes the first round(n·trainFraction) as train, the rest
    /// as test. Deterministic for a seed; every item lands in exactly one part.
    /// </summary>
    public static DatasetSplit<T> TrainTest<T>(IReadOnlyList<T> items, double trainFraction = 0.9, int seed = PaperSeed)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (double.IsNaN(trainFraction) || trainFraction < 0 || trainFraction > 1)
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "must be in [0, 1]");
        var shuffled = items.ToList();
        GeneratorKit.Shuffle(shuffled, new Random(seed));
        int nTrain = (int)Math.Round(items.Count * trainFraction, MidpointRounding.AwayFromZero);
        return new DatasetSplit<T>(shuffled.Take(nTrain).ToArray(), shuffled.Skip(nTrain).ToArray());
    }
}
