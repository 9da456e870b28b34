using CircuitNotebooks.Tasks;

namespace CircuitNotebooks.Cli.Tools;

/// <summary>
/// The datasets shipped with the default model (data/datasets): for every tiny-suite task a train and a test split, as
/// CSV in the column layout of the paper's releases (clean, corrupted, label, then metadata) and as JSONL.
/// </summary>
public static class TinySuiteDatasets
{
    public const int DefaultCount = 2000;
    public const int DefaultSeed = 7;

    /// <summary>Writes {task}.{train|test}.{csv|jsonl} for every task; returns the paths written.</summary>
    public static IReadOnlyList<string> Write(string directory, int count = DefaultCount, int seed = DefaultSeed)
    {
        if (count < 2) throw new ArgumentOutOfRangeException(nameof(count), count, "need at least 2 examples per task to split.");
        var written = new List<string>();
        foreach (var (name, make) in TinySuite.ByName)
        {
            var all = make().Generate(count, seed, TinySuite.Template);
            var split = DatasetSplit.TrainTest(all);
            foreach (var (part, rows) in new[] { ("train", split.Train), ("test", split.Test) })
            {
                string stem = Path.Combine(directory, $"{name}.{part}");
                TaskCsv.Write(stem + ".csv", rows);
                TaskJsonl.Write(stem + ".jsonl", rows);
                written.Add(stem + ".csv");
                written.Add(stem + ".jsonl");
            }
        }
        return written;
    }
}
