using System.Runtime.InteropServices;

namespace CircuitNotebooks.Cli.Tools;

/// <summary>
/// Peak resident memory of a piece of work on Linux (the bench takes it in a fresh process whose glibc returns freed
/// memory at once, see <see cref="MemoryProbe"/>; under a retaining heap it also counts fragmentation). glibc keeps freed blocks for reuse, and reuse of memory that is
/// already resident does not raise the peak, so the heap is trimmed (free pages handed back with malloc_trim) before
/// the high-water mark is reset; what the work then touches shows up as growth.
/// </summary>
public static class ProcessMemory
{
    private const string Status = "/proc/self/status", ClearRefs = "/proc/self/clear_refs";

    /// <summary>Peak RSS growth in bytes while <paramref name="run"/> runs; -1 where /proc or glibc is unavailable.</summary>
    public static long PeakGrowth(Action run)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(Status) || !File.Exists(ClearRefs)) { run(); return -1; }
        try
        {
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
