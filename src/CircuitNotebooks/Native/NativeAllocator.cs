using System.Runtime.InteropServices;

namespace CircuitNotebooks.Native;

/// <summary>
/// Opt-in glibc malloc settings for analysis processes. libtorch takes every CPU tensor from malloc; by default glibc
/// serves blocks of a few MiB and more with fresh memory maps and hands freed memory back to the OS, so a loop that
/// keeps allocating tensors of the same sizes pays a page fault per 4 KiB on every iteration. On virtual machines
/// that can cost more than the arithmetic (measured here: about 3 s per GB touched vs 0.1 s for reused memory, and
/// edge-patched forwards varying 1.4–2× between otherwise identical processes).
/// <see cref="RetainFreedMemory"/> serves blocks up to 32 MiB from the heap and keeps up to 1 GiB of freed heap, so
/// repeated work reuses memory that is already mapped. The cost: the process's resident memory stays near its peak.
/// The <c>circuitnb</c> CLI calls it at start-up; in a notebook call it once in the first cell. Same effect without
/// code, for any process started afterwards:
/// <c>GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824</c>.
/// </summary>
public static class NativeAllocator
{
    private const int M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3;

    /// <summary>True once the settings are in effect in this process.</summary>
    public static bool Retaining { get; private set; }

    /// <summary>Applies the settings; false (and nothing changed) where the C library is not glibc.</summary>
    public static bool RetainFreedMemory()
    {
        if (Retaining) return true;
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            // 32 MiB is glibc's ceiling for the mmap threshold on 64-bit; mallopt returns 1 on success.
            Retaining = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Retaining = false;
        }
        return Retaining;
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);
}
