using CircuitNotebooks.Models;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Models;

public class MemoryTests
{
    private static long RssBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("VmRSS not found");
    }

    [Fact]
    public void ThousandForwardsInDisposeScopesDoNotGrowNativeMemory()
    {
        var cfg = ModelFixtures.Gpt2 with { DModel = 64, DMlp = 256, DVocab = 200 };
        using var model = HookedTransformer.Create(cfg, 0);
        using var tokens = randint(0, 200, [4, 16], dtype: ScalarType.Int64);
        void Run(int n)
        {
            for (int i = 0; i < n; i++)
            {
                using var scope = NewDisposeScope();
                using var g = no_grad();
                model.Forward(tokens).sum().item<float>();
            }
        }
        // Growth between two equal batches of forwards: a per-forward leak adds the same amount in each, while
        // allocator and runtime warm-up show up only in the first.
        Run(1000);
        GC.Collect();
        long mid = RssBytes();
        Run(1000);
        GC.Collect();
        long growth = RssBytes() - mid;
        // One forward's activations are ~0.8 MB; leaking even one tensor per forward would add ≥ 16 MB.
        Assert.True(growth < 8L << 20, $"RSS grew by {growth / 1e6:F1} MB over the second 1000 forwards");
    }
}
