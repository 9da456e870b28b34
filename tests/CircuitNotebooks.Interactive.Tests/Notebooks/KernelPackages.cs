using System.Diagnostics;

namespace CircuitNotebooks.Interactive.Tests.Notebooks;

/// <summary>
/// The packages a user's first cell loads, packed from this build once per test run under a version of its own
/// (NuGet caches packages by version, so a reused version would serve a stale copy), plus a working directory whose
/// NuGet.Config points at them by a relative path — the set-up notebooks/README.md documents.
/// </summary>
internal static class KernelPackages
{
    private static readonly Lazy<string> Folder = new(Pack, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A fresh kernel working directory: NuGet.Config → the packed packages.</summary>
    public static string NewWorkingDirectory(string name)
    {
        var packages = Folder.Value;
        var dir = TestPaths.NewDirectory(name);
        File.WriteAllText(Path.Combine(dir, "NuGet.Config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="circuitnotebooks-test" value="{Path.GetRelativePath(dir, packages)}" />
              </packageSources>
            </configuration>
            """);
        return dir;
    }

    /// <summary>
    /// A directory shaped like a fresh clone after the documented set-up: notebooks/NuGet.Config (the committed one),
    /// artifacts/packages (this run's packages), data/ (a link to the repository's). Notebooks are copied in by the caller.
    /// </summary>
    public static string NewCloneShapedDirectory(string name)
    {
        var packages = Folder.Value;
        var root = TestPaths.NewDirectory(name);
        var notebooks = Directory.CreateDirectory(Path.Combine(root, "notebooks")).FullName;
        File.Copy(Path.Combine(Repo.Root, "notebooks", "NuGet.Config"), Path.Combine(notebooks, "NuGet.Config"));
        Directory.CreateDirectory(Path.Combine(root, "artifacts"));
        Directory.CreateSymbolicLink(Path.Combine(root, "artifacts", "packages"), packages);
        Directory.CreateSymbolicLink(Path.Combine(root, "data"), Path.Combine(Repo.Root, "data"));
        return root;
    }

    public static string Version { get; } = "1.0.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);

    private static string Pack()
    {
        var dir = TestPaths.NewDirectory("packages");
        // The test binaries sit in tests/<project>/bin/<Configuration>/net10.0/: pack what that configuration built.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        foreach (var project in new[] { "CircuitNotebooks", "CircuitNotebooks.Interactive" })
        {
            var psi = new ProcessStartInfo("dotnet",
                ["pack", Path.Combine(Repo.Root, "src", project, project + ".csproj"), "-c", configuration, "--no-build", "-o", dir,
                 "-p:PackageVersion=" + Version, "-nologo"])
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(psi)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"dotnet pack {project} failed ({process.ExitCode}):\n{output.Result}\n{error}");
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ForgetCachedCopies();
        return dir;
    }

    /// <summary>Removes this run's test versions from the NuGet cache (they are never used again).</summary>
    private static void ForgetCachedCopies()
    {
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                    ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in new[] { "circuitnotebooks", "circuitnotebooks.interactive" })
        {
            var path = Path.Combine(cache, id, Version);
            try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
