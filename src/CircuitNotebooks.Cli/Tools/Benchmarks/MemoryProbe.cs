using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Models;

namespace CircuitNotebooks.Cli.Tools;

/// <summary>What to measure: a random-initialised model of this shape, random batches of these sizes, EAP-IG steps (1 = EAP).</summary>
public sealed record MemoryProbeSpec(ModelConfig Config, int[] Rows, int Positions, int Steps, int Rounds);

/// <summary>Peak resident growth (bytes) of scoring and of a plain forward + backward, [batch size][round].</summary>
public sealed record MemoryProbeResult(double[][] Scoring, double[][] ForwardBackward);

/// <summary>
/// Peak memory of edge scoring and of a plain forward + backward, measured in a fresh child process whose glibc
/// serves every block of 64 KiB or more from its own memory map and returns it when freed
/// (GLIBC_TUNABLES, set before the process starts): resident memory then follows what is allocated, so the peak is
/// what the work holds. In the CLI's own process the heap retains freed memory for speed (NativeAllocator), and its
/// high-water mark also counts fragmentation, which grows with repeated passes and differs between identical runs;
/// switching policy at run time does not help, since malloc keeps serving from the heap it already has.
/// </summary>
public static class MemoryProbe
{
    public const string Option = "--memory-probe";
    private const string Marker = "MEMORY-PROBE ";
    public const string Tunables = "glibc.malloc.mmap_threshold=65536:glibc.malloc.trim_threshold=131072:glibc.malloc.arena_max=1";

    /// <summary>Runs the probe in a child <c>circuitnb</c> process; null when that is not possible (not Linux, no executable).</summary>
    public static MemoryProbeResult? RunIsolated(MemoryProbeSpec spec, CancellationToken ct = default)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // The circuitnb executable when this is one; otherwise (dotnet circuitnb.dll, a test host) the dotnet host
        // running this assembly.
        var exe = Environment.ProcessPath;
        if (exe is not null && Path.GetFileNameWithoutExtension(exe) == "circuitnb")
            psi.FileName = exe;
        else
        {
            psi.FileName = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
            psi.ArgumentList.Add(typeof(MemoryProbe).Assembly.Location);
        }
        foreach (var a in new[] { "bench", Option, JsonSerializer.Serialize(spec) }) psi.ArgumentList.Add(a);
        psi.Environment["GLIBC_TUNABLES"] = Tunables;
        psi.Environment["CIRCUITNB_DEFAULT_MALLOC"] = "1";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {psi.FileName} for the memory probe.");
        using var reg = ct.Register(() => { try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } });
        var stderr = p.StandardError.ReadToEndAsync(ct);
        string? line = null;
        while (p.StandardOutput.ReadLine() is { } l)
            if (l.StartsWith(Marker, StringComparison.Ordinal)) line = l[Marker.Length..];
        p.WaitForExit();
        ct.ThrowIfCancellationRequested();
        if (p.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"The memory probe ({spec.Config.NLayers}×{spec.Config.DModel}, [{string.Join(", ", spec.Rows)}]×{spec.Positions}) failed with exit code {p.ExitCode}: {stderr.Result.Trim()}");
        return JsonSerializer.Deserialize<MemoryProbeResult>(line)!;
    }

    /// <summary>The child's side: measures in this process and prints one marked JSON line.</summary>
    public static int RunChild(string specJson, TextWriter output)
    {
        var spec = JsonSerializer.Deserialize<MemoryProbeSpec>(specJson) ?? throw new ArgumentException("empty memory probe spec");
        var r = Measure(spec);
        output.WriteLine(Marker + JsonSerializer.Serialize(r));
        return 0;
    }

    /// <summary>In this process, per batch size: warm-up, then each round one scoring call and one plain forward + backward.</summary>
    public static MemoryProbeResult Measure(MemoryProbeSpec spec)
    {
        var cfg = spec.Config;
        using var model = HookedTransformer.Create(cfg, seed: 0);
        var options = new AttributionOptions { Method = spec.Steps == 1 ? AttributionMethod.Eap : AttributionMethod.EapIgInputs, Steps = spec.Steps };
        var scoring = new double[spec.Rows.Length][];
        var fb = new double[spec.Rows.Length][];
        for (int i = 0; i < spec.Rows.Length; i++)
        {
            var batch = ScaleBenchmark.RandomBatch(cfg, spec.Rows[i], spec.Positions, seed: 3);
            EdgeAttribution.Compute(model, batch, options); // first-call allocations are not the algorithm's
            AttributionBenchmarks.ForwardBackward(model, batch);
            scoring[i] = new double[Math.Max(1, spec.Rounds)];
            fb[i] = new double[scoring[i].Length];
            for (int r = 0; r < scoring[i].Length; r++)
            {
                scoring[i][r] = AttributionBenchmarks.Peak(() => EdgeAttribution.Compute(model, batch, options));
                fb[i][r] = AttributionBenchmarks.Peak(() => AttributionBenchmarks.ForwardBackward(model, batch));
            }
        }
        return new MemoryProbeResult(scoring, fb);
    }
}
