using CircuitNotebooks.Models;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Models;

[Collection(SerialCollection.Name)]
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
        long Settle()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return RssBytes();
        }
        Run(1000); // allocator and runtime warm-up
        // Counted after settling: finalizers of tensors other tests left to the GC would otherwise move the count.
        long r0 = Settle();
        long liveBefore = Tensor.TotalCount;
        Run(1000);
        long r1 = Settle();
        long liveAfter = Tensor.TotalCount;
        Run(1000);
        long r2 = Settle();

        // Exact: every tensor a forward creates is disposed by its scope.
        Assert.Equal(liveBefore, liveAfter);
        // Native memory: a per-forward leak grows RSS in *every* batch, while allocator noise (arena growth, a GC heap
        // resize) shows up once. One forward's activations are ~0.8 MB; leaking one [4,16,64] tensor per forward would
        // add 16 MB per batch.
        long g1 = r1 - r0, g2 = r2 - r1;
        Assert.False(g1 > 8L << 20 && g2 > 8L << 20,
            $"RSS grew in both batches of 1000 forwards: {g1 / 1e6:F1} MB then {g2 / 1e6:F1} MB");
    }
}
