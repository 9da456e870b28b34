using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace CircuitNotebooks.Native;

/// <summary>
/// Makes TorchSharp's native shim load on Linux systems whose libstdc++ predates GLIBCXX_3.4.32 (Debian 12,
/// Ubuntu 22.04). The only symbol of that version the shim uses, <c>std::ios_base_library_init()</c>, is never
/// relocated, so a copy whose requirement is flagged weak behaves identically. The copy lives in a user cache
/// folder; system files and the NuGet cache are never touched. Where the default load works this is a no-op,
/// because the runtime only raises <see cref="AssemblyLoadContext.ResolvingUnmanagedDll"/> after its own probing failed.
/// </summary>
public static class TorchNativeLoader
{
    /// <summary>Versions known to be referenced but never relocated by LibTorchSharp 0.107, hence safe to weaken.</summary>
    public static readonly IReadOnlyList<string> SafeToWeaken = ["GLIBCXX_3.4.32"];

    private static int _installed;
    private static readonly object Gate = new();
    private static IntPtr _handle;

    /// <summary>What the loader did, for diagnostics ("default", "patched:&lt;path&gt;", or null before torch loaded).</summary>
    public static string? LastAction { get; private set; }

    [ModuleInitializer]
    internal static void AutoInstall() => Install();

    /// <summary>Idempotent. Must run before anything touches <c>TorchSharp.torch</c>; the engine does it on load.</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        if (!OperatingSystem.IsLinux()) return;
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += Resolve;
        var torchAlc = AssemblyLoadContext.GetLoadContext(typeof(TorchSharp.torch).Assembly);
        if (torchAlc != null && torchAlc != AssemblyLoadContext.Default) torchAlc.ResolvingUnmanagedDll += Resolve;
    }

    /// <summary>
    /// Loads libtorch and TorchSharp's shim (patched if this system's libstdc++ needs it) right now, by full path.
    /// Notebook kernels need this before anything touches <c>TorchSharp.torch</c>: there TorchSharp gathers its native
    /// files into one folder and loads the shim by path, which raises no resolve event, so the lazy fix above never
    /// runs and the type initializer fails for the life of the process. A shim already in the process under its
    /// soname satisfies TorchSharp's own load. Idempotent; a no-op off Linux.
    /// </summary>
    public static void Preload()
    {
        Install();
        if (!OperatingSystem.IsLinux()) return;
        lock (Gate)
        {
            if (_handle == IntPtr.Zero) _handle = LoadShim();
        }
    }

    private static IntPtr Resolve(Assembly? assembly, string name)
    {
        if (!name.Contains("LibTorchSharp", StringComparison.Ordinal)) return IntPtr.Zero;
        lock (Gate)
        {
            if (_handle != IntPtr.Zero) return _handle;
            _handle = LoadShim();
            return _handle;
        }
    }

    private static IntPtr LoadShim()
    {
        var shimPath = FindNative("libLibTorchSharp.so")
            ?? throw new TorchNativeLoadException(
                "libLibTorchSharp.so was not found next to the application, in the runtime's native search directories " +
                "or in the NuGet cache. Restore the TorchSharp-cpu package (dotnet restore) and try again.");
        var torchDir = FindNative("libtorch_cpu.so") is { } cpu ? Path.GetDirectoryName(cpu)! : Path.GetDirectoryName(shimPath)!;

        // Dependencies by full path first: the patched copy sits outside the package folder, so its $ORIGIN
        // run-path no longer finds them, but an already-loaded soname satisfies DT_NEEDED.
        foreach (var dep in new[] { "libc10.so", "libc10_cuda.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so" })
        {
            var p = Path.Combine(torchDir, dep);
            if (!File.Exists(p)) p = Path.Combine(Path.GetDirectoryName(shimPath)!, dep);
            if (File.Exists(p) && !NativeLibrary.TryLoad(p, out _))
                throw new TorchNativeLoadException($"Could not load libtorch dependency '{p}'. " + Advice);
        }

        if (TryDlopen(shimPath, out var direct, out var error))
        {
            LastAction = "default";
            return direct;
        }
        var missing = Regex.Matches(error, @"GLIBCXX_[0-9.]+|CXXABI_[0-9.]+").Select(m => m.Value).Distinct().ToList();
        if (missing.Count == 0)
            throw new TorchNativeLoadException($"Loading '{shimPath}' failed: {error}. " + Advice);
        var unsafeToWeaken = missing.Except(SafeToWeaken).ToList();
        if (unsafeToWeaken.Count > 0)
            throw new TorchNativeLoadException(
                $"Loading '{shimPath}' failed: the system libstdc++ lacks {string.Join(", ", unsafeToWeaken)}, which " +
                $"TorchSharp really uses ({error}). " + Advice);

        var patched = EnsurePatchedCopy(shimPath);
        if (!TryDlopen(patched, out var handle, out var error2))
            throw new TorchNativeLoadException($"Loading the patched copy '{patched}' failed: {error2}. " + Advice);
        LastAction = "patched:" + patched;
        return handle;
    }

    private const string Advice =
        "TorchSharp needs libstdc++ with GLIBCXX_3.4.32 or newer (GCC 13+): install a newer libstdc++6 " +
        "(e.g. from a newer distribution release) or set LD_LIBRARY_PATH to a folder holding one. See environment.md.";

    /// <summary>Writes (once, atomically) a copy of the shim with the safe versions weakened; returns its path.</summary>
    public static string EnsurePatchedCopy(string shimPath, string? cacheRoot = null)
    {
        var bytes = File.ReadAllBytes(shimPath);
        var hash = Convert.ToHexString(SHA256.HashData(bytes))[..16].ToLowerInvariant();
        var dir = Path.Combine(cacheRoot ?? CacheRoot(), hash);
        var target = Path.Combine(dir, Path.GetFileName(shimPath));
        if (File.Exists(target)) return target;
        Directory.CreateDirectory(dir);
        ElfVersionNeedPatcher.MarkWeak(bytes, SafeToWeaken.ToList(), shimPath);
        var tmp = target + "." + Environment.ProcessId + ".tmp";
        File.WriteAllBytes(tmp, bytes);
        File.Move(tmp, target, overwrite: true);
        return target;
    }

    private static string CacheRoot()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var baseDir = !string.IsNullOrEmpty(xdg) ? xdg
            : !string.IsNullOrEmpty(home) ? Path.Combine(home, ".cache")
            : Path.GetTempPath();
        return Path.Combine(baseDir, "circuitnotebooks", "native");
    }

    private static string? FindNative(string file)
    {
        var dirs = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string s)
            dirs.AddRange(s.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        dirs.Add(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native"));
        dirs.Add(AppContext.BaseDirectory);
        var torchAsmDir = Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location);
        if (!string.IsNullOrEmpty(torchAsmDir))
        {
            dirs.Add(Path.Combine(torchAsmDir, "runtimes", "linux-x64", "native"));
            dirs.Add(torchAsmDir);
            // NuGet layout: <pkg>/<ver>/lib/net6.0/TorchSharp.dll → <pkg>/<ver>/runtimes/linux-x64/native
            dirs.Add(Path.GetFullPath(Path.Combine(torchAsmDir, "..", "..", "runtimes", "linux-x64", "native")));
        }
        foreach (var d in dirs)
        {
            var p = Path.Combine(d, file);
            if (File.Exists(p)) return p;
        }
        var nugetRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var pkg in new[] { "torchsharp", "libtorch-cpu-linux-x64", "libtorch-cuda-12.8-linux-x64" })
        {
            var root = Path.Combine(nugetRoot, pkg);
            if (!Directory.Exists(root)) continue;
            foreach (var ver in Directory.GetDirectories(root).OrderDescending())
            {
                var p = Path.Combine(ver, "runtimes", "linux-x64", "native", file);
                if (File.Exists(p)) return p;
            }
        }
        return null;
    }

    private static bool TryDlopen(string path, out IntPtr handle, out string error)
    {
        // NativeLibrary.Load carries dlerror()'s text in its exception message; a separate dlerror P/Invoke
        // would race with the runtime's own dlopen calls and return nothing.
        try
        {
            handle = NativeLibrary.Load(path);
            error = "";
            return true;
        }
        catch (DllNotFoundException e)
        {
            handle = IntPtr.Zero;
            error = e.Message;
            return false;
        }
    }
}

/// <summary>TorchSharp's native libraries could not be loaded; the message says what is missing and what to do.</summary>
public sealed class TorchNativeLoadException(string message) : Exception(message);
