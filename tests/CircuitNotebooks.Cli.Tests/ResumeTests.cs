using CircuitNotebooks.Cli.Infrastructure;
using Xunit;

namespace CircuitNotebooks.Cli.Tests;

/// <summary>Ctrl+C (the invocation's token) stops cleanly; re-running with the same --out gives the uninterrupted results.</summary>
[Collection(ReproduceRun.Collection)]
public sealed class ResumeTests(ReproduceRun reference)
{
    [Fact]
    public async Task CancelledThenResumedRunMatchesTheUninterruptedRun()
    {
        Assert.Equal(0, reference.Result.ExitCode);
        var outDir = TempDirs.NewPath("resume");
        using var cts = new CancellationTokenSource();
        // Cancel when LoRA's first checkpoint circuit is being written: LoRA stops after that step, CircuitLoRA never starts.
        OutputDirectory.BeforeWrite = path => { if (path.EndsWith(Path.Combine("lora", "step-000002.json"))) cts.Cancel(); };
        Cli.Result first;
        try { first = await Cli.Run(cts.Token, ReproduceRun.Args(outDir)); }
        finally { OutputDirectory.BeforeWrite = null; }

        Assert.True(first.ExitCode == ExitCodes.Interrupted, first.ToString());
        Assert.Contains("interrupted", first.Err);
        Assert.DoesNotContain("   at ", first.Err);
        Assert.True(File.Exists(Path.Combine(outDir, "circuits", "lora", "step-000002.json")));
        Assert.False(File.Exists(Path.Combine(outDir, "circuits", "lora", "step-000004.json")));
        Assert.False(File.Exists(Path.Combine(outDir, "report.html")));
        Assert.Empty(Directory.GetFiles(outDir, "*" + OutputDirectory.TempSuffix, SearchOption.AllDirectories));
        var fullCircuit = File.GetLastWriteTimeUtc(Path.Combine(outDir, "circuits", "full", "step-000004.json"));

        var second = await Cli.Run(ReproduceRun.Args(outDir));
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("resuming", second.Out);
        Assert.Contains("resumed from checkpoint step 2", second.Out);
        // Finished work was read back, not recomputed.
        Assert.Equal(fullCircuit, File.GetLastWriteTimeUtc(Path.Combine(outDir, "circuits", "full", "step-000004.json")));
        AssertSameResults(reference.Out, outDir);
    }

    [Fact]
    public async Task RunKilledBetweenCheckpointAndCircuitIsCompletedFromTheCheckpoint()
    {
        Assert.Equal(0, reference.Result.ExitCode);
        var outDir = TempDirs.NewPath("gap");
        // As if the process died right after the trainer saved step 2 of the second seed's full run, before its circuit
        // was written: the first seed's runs are read back, the second seed's continues from its checkpoint.
        OutputDirectory.BeforeWrite = path =>
        {
            if (path.EndsWith(Path.Combine("full-seed6", "step-000002.json"))) throw new OperationCanceledException();
        };
        Cli.Result first;
        try { first = await Cli.Run(ReproduceRun.Args(outDir)); }
        finally { OutputDirectory.BeforeWrite = null; }
        Assert.Equal(ExitCodes.Interrupted, first.ExitCode);
        Assert.True(Directory.Exists(Path.Combine(outDir, "runs", "full-seed6", "step-000002")));
        Assert.False(File.Exists(Path.Combine(outDir, "circuits", "full-seed6", "step-000002.json")));
        Assert.True(File.Exists(Path.Combine(outDir, "circuits", "randomlayers", "step-000004.json")));

        var second = await Cli.Run(ReproduceRun.Args(outDir));
        Assert.True(second.ExitCode == 0, second.ToString());
        AssertSameResults(reference.Out, outDir);
    }

    [Fact]
    public async Task ResumingWithOtherSettingsIsRefused()
    {
        Assert.Equal(0, reference.Result.ExitCode);
        var args = ReproduceRun.Args(reference.Out);
        args[Array.IndexOf(args, "--steps") + 1] = "6";
        var r = await Cli.Run(args);
        Assert.Equal(ExitCodes.Usage, r.ExitCode);
        Assert.Contains("holds a run with other settings", r.Err);
        Assert.Contains("steps: 4 then, 6 now", r.Err);
    }

    [Fact]
    public async Task ConfigFileCanDropOldCheckpointsAndSkipComposition()
    {
        var outDir = TempDirs.NewPath("config-run");
        Directory.CreateDirectory(outDir + "-cfg");
        var cfg = Path.Combine(outDir + "-cfg", "settings.json");
        File.WriteAllText(cfg, """{ "methods": ["lora"], "keepCheckpoints": false, "composition": false }""");
        var r = await Cli.Run([.. ReproduceRun.Args(outDir), "--config", cfg]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(["step-000004"], Directory.GetDirectories(Path.Combine(outDir, "runs", "lora")).Select(Path.GetFileName));
        Assert.True(File.Exists(Path.Combine(outDir, "circuits", "lora", "step-000002.json")));
        Assert.False(File.Exists(Path.Combine(outDir, "composition.csv")));
        Assert.False(Directory.Exists(Path.Combine(outDir, "runs", "full")));
        // Same settings as the shared full run for LoRA: its CSV is identical.
        Assert.Equal(File.ReadAllText(Path.Combine(reference.Out, "similarity_lora.csv")), File.ReadAllText(Path.Combine(outDir, "similarity_lora.csv")));
    }

    /// <summary>Every CSV byte for byte, and every circuit's nodes, edges and scores.</summary>
    private static void AssertSameResults(string expectedDir, string actualDir)
    {
        var csvs = Directory.GetFiles(expectedDir, "*.csv").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(csvs, Directory.GetFiles(actualDir, "*.csv").Select(Path.GetFileName).Order().ToList());
        foreach (var f in csvs) Assert.True(File.ReadAllText(Path.Combine(expectedDir, f!)) == File.ReadAllText(Path.Combine(actualDir, f!)), $"{f} differs");
        var circuits = Directory.GetFiles(Path.Combine(expectedDir, "circuits"), "*.json", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(expectedDir, p)).Order().ToList();
        Assert.Equal(circuits, Directory.GetFiles(Path.Combine(actualDir, "circuits"), "*.json", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(actualDir, p)).Order().ToList());
        foreach (var c in circuits.Where(c => !c.EndsWith(".eval.json")))
        {
            var a = Circuits.CircuitFile.Load(Path.Combine(expectedDir, c));
            var b = Circuits.CircuitFile.Load(Path.Combine(actualDir, c));
            Assert.Equal(a.Scores, b.Scores);
            Assert.Equal(a.EdgeMask, b.EdgeMask);
            Assert.Equal(a.NodeMask, b.NodeMask);
        }
    }
}
