using System.Runtime.InteropServices;
using CircuitNotebooks.Native;

namespace CircuitNotebooks.Cli.Tools;

/// <summary>
/// Peak resident memory of a piece of work on Linux, measured with glibc set to return freed memory at once
/// (<see cref="NativeAllocator.ReturnFreedMemory"/>) so the peak is what the work holds, not what a retaining heap
/// has fragmented into; the allocator policy in force before is restored afterwards. The heap is trimmed and the
/// high-water mark reset first, so what the work touches shows up as growth.
/// </summary>
public static class ProcessMemory
{
    private const string Status = "/proc/self/status", ClearRefs = "/proc/self/clear_refs";

    /// <summary>Peak RSS growth in bytes while <paramref name="run"/> runs; -1 where /proc or glibc is unavailable.</summary>
    public static long PeakGrowth(Action run)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(Status) || !File.Exists(ClearRefs)) { run(); return -1; }
        bool retained = NativeAllocator.Retaining;
        try
        {
            if (!NativeAllocator.ReturnFreedMemory()) { run(); return -1; }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Trim();
            File.WriteAllText(ClearRefs, "5"); // resets VmHWM to the current RSS
            long before = ReadKb("VmRSS:");
            run();
            return Math.Max(0, ReadKb("VmHWM:") - before) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
        finally
        {
            if (retained) NativeAllocator.RetainFreedMemory();
        }
    }

    private static void Trim()
    {
        try { malloc_trim(UIntPtr.Zero); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { } // not glibc: growth is a lower bound
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(UIntPtr pad);

    private static long ReadKb(string key)
    {
        var line = File.ReadLines(Status).First(l => l.StartsWith(key, StringComparison.Ordinal));
        return long.Parse(line[key.Length..].Trim().Split(' ')[0]);
    }
}
