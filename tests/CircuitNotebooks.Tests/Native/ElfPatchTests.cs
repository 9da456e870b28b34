using System.Diagnostics;
using CircuitNotebooks.Native;
using Xunit;

namespace CircuitNotebooks.Tests.Native;

public class ElfPatchTests
{
    private static string RealShim()
    {
        var p = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(p), $"expected TorchSharp's shim at {p}");
        return p;
    }

    [Fact]
    public void MarksOnlyTheRequestedVersionWeak()
    {
        var bytes = File.ReadAllBytes(RealShim());
        var before = ElfVersionNeedPatcher.ReadVersionNeeds(bytes);
        var target = before.Single(v => v.Version == "GLIBCXX_3.4.32");
        Assert.False(target.IsWeak);

        Assert.Equal(1, ElfVersionNeedPatcher.MarkWeak(bytes, ["GLIBCXX_3.4.32"]));
        var after = ElfVersionNeedPatcher.ReadVersionNeeds(bytes);
        Assert.Equal(before.Count, after.Count);
        for (int i = 0; i < before.Count; i++)
        {
            Assert.Equal(before[i].Version, after[i].Version);
            Assert.Equal(before[i].Version == "GLIBCXX_3.4.32", after[i].IsWeak && !before[i].IsWeak);
        }
        Assert.Equal(0, ElfVersionNeedPatcher.MarkWeak(bytes, ["GLIBCXX_3.4.32"])); // idempotent

        // Only the two flag bytes of that one entry may differ from the original file.
        var original = File.ReadAllBytes(RealShim());
        var diffs = Enumerable.Range(0, original.Length).Where(i => original[i] != bytes[i]).ToList();
        Assert.InRange(diffs.Count, 1, 2);
        Assert.True(diffs.Max() - diffs.Min() <= 1);
    }

    [Fact]
    public void ReadelfSeesTheWeakFlagInThePatchedCopy()
    {
        var dir = Directory.CreateTempSubdirectory("cn-elf-");
        try
        {
            var copy = TorchNativeLoader.EnsurePatchedCopy(RealShim(), dir.FullName);
            Assert.Equal(copy, TorchNativeLoader.EnsurePatchedCopy(RealShim(), dir.FullName)); // cached
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(copy)!, "*.tmp"));
            // Independent check with binutils: the version-needs listing flags the entry WEAK.
            var psi = new ProcessStartInfo("readelf", ["-V", "-W", copy]) { RedirectStandardOutput = true };
            using var proc = Process.Start(psi)!;
            var text = proc.StandardOutput.ReadToEnd();
            proc.WaitForExit();
            var line = text.Split('\n').Single(l => l.Contains("Name: GLIBCXX_3.4.32"));
            Assert.Contains("WEAK", line.ToUpperInvariant());
            var other = text.Split('\n').First(l => l.Contains("Name: GLIBCXX_3.4.29") || l.Contains("Name: GLIBCXX_3.4.21"));
            Assert.DoesNotContain("WEAK", other.ToUpperInvariant());
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void RejectsNonElfInputWithItsName()
    {
        var ex = Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.ReadVersionNeeds(new byte[100], "bogus.so"));
        Assert.Contains("bogus.so", ex.Message);
    }

    [Fact]
    public void TorchInitialisesOnThisMachine()
    {
        using var t = TorchSharp.torch.ones(2, 2);
        Assert.Equal(4f, t.sum().item<float>());
        // Either the system libstdc++ was new enough ("default") or the patched copy was used.
        Assert.True(TorchNativeLoader.LastAction is null or "default" || TorchNativeLoader.LastAction.StartsWith("patched:"));
    }
}
