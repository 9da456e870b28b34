using CircuitNotebooks.FineTuning;
using CircuitNotebooks.Models;
using CircuitNotebooks.Tests.Models;

namespace CircuitNotebooks.Tests.FineTuning;

internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

internal static class ToyData
{
    public const int Bos = 1, Sep = 2, FirstSymbol = 3, Symbols = 12;

    /// <summary>"Copy the first token": [BOS, a, x, y, SEP] → a. Chance accuracy is 1/Symbols.</summary>
    public static List<TrainingExample> CopyFirst(int n, int seed)
    {
        var rng = new Random(seed);
        int Sym() => FirstSymbol + rng.Next(Symbols);
        return Enumerable.Range(0, n).Select(_ =>
        {
            int a = Sym();
            return TrainingExample.FromIds([Bos, a, Sym(), Sym(), Sep], [a]);
        }).ToList();
    }

    /// <summary>Examples of varied length and answer length (padding and normalisation matter).</summary>
    public static List<TrainingExample> Ragged(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ =>
        {
            var prompt = Enumerable.Range(0, 2 + rng.Next(5)).Select(_ => rng.Next(1, 40)).ToArray();
            var answer = Enumerable.Range(0, 1 + rng.Next(3)).Select(_ => rng.Next(1, 40)).ToArray();
            return TrainingExample.FromIds(prompt, answer);
        }).ToList();
    }

    public static HookedTransformer Fresh(string arch, int seed = 1) => HookedTransformer.Create(ModelFixtures.ByName(arch), seed);

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "cn-ft-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }
}

/// <summary>
/// Tiny models on a shared 2-core machine: intra-op threads only add spinning and make these tests ~10× slower
/// under load, so the fine-tuning tests run torch single-threaded (process-wide; harmless for other tests).
/// </summary>
internal static class SingleThreadedTorch
{
    private static readonly object Gate = new();
    private static bool _done;

    public static void Ensure()
    {
        lock (Gate)
        {
            if (_done) return;
            TorchSharp.torch.set_num_threads(1);
            _done = true;
        }
    }
}
