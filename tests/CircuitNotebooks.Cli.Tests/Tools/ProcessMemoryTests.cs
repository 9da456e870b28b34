using CircuitNotebooks.Cli.Tools;
using CircuitNotebooks.Native;
using Xunit;

namespace CircuitNotebooks.Cli.Tests.Tools;

[Collection(SerialCollection.Name)]
public class ProcessMemoryTests
{
    [Fact]
    public void PeakGrowthSeesMemoryTheRunTouches()
    {
        if (!OperatingSystem.IsLinux()) return;
        const int size = 64 << 20;
        byte[]? kept = null;
        long grew = ProcessMemory.PeakGrowth(() =>
        {
            kept = GC.AllocateUninitializedArray<byte>(size, pinned: true);
            for (int i = 0; i < size; i += 4096) kept[i] = 1; // touch every page
        });
        Assert.NotNull(kept);
        Assert.InRange(grew, size * 0.9, size * 3.0);
        long idle = ProcessMemory.PeakGrowth(() => { });
        Assert.True(idle < size / 4, $"an empty run grew by {idle} bytes");
    }

    [Fact]
    public void RetainFreedMemoryTakesEffectOnGlibc()
    {
        if (!OperatingSystem.IsLinux()) return;
        Assert.True(NativeAllocator.RetainFreedMemory());
        Assert.True(NativeAllocator.Retaining);
    }
}
