using System.Text.Json;
using CircuitNotebooks.Cli.Reproduce;
using Xunit;

namespace CircuitNotebooks.Cli.Tests;

/// <summary>`--preset paper` end to end on the tiny model, with a config file and options shrinking it to test size.</summary>
public sealed class PresetTests
{
    [Fact]
    public async Task PaperPresetRunsWithTinyOverridesAndKeepsItsOtherSettings()
    {
        var outDir = TempDirs.NewPath("paper");
        Directory.CreateDirectory(outDir + "-cfg");
        var cfg = Path.Combine(outDir + "-cfg", "tiny.json");
        // The file replaces only what it names; the preset's other values must survive.
        File.WriteAllText(cfg, """{ "task": "addsub", "examples": 60, "criticalLayers": 1, "composition": false }""");
        var r = await Cli.Run("reproduce", "--preset", "paper", "--config", cfg, "--model", TinyModel.Path, "--device", "cpu",
            "--steps", "4", "--checkpoint-every", "2", "--ig-steps", "2", "--seeds", "1", "--out", outDir);
        Assert.True(r.ExitCode == 0, r.ToString());

        var s = JsonSerializer.Deserialize<ReproduceSettings>(File.ReadAllText(Path.Combine(outDir, "config.json")), ReproduceSettings.Json)!;
        var paper = ReproducePresets.Paper;
        Assert.Equal((32, 8, 4, "kl", 64, false), (s.LoraRank, s.BatchSize, s.GradAccumulation, s.Metric, s.AttributionExamples, s.KeepCheckpoints));
        Assert.Equal((paper.FullLearningRate, paper.LoraLearningRate), (s.FullLearningRate, s.LoraLearningRate));
        Assert.Equal(("addsub", 60, 1, false), (s.Task, s.Examples, s.CriticalLayers!.Value, s.Composition));
        Assert.Equal((4, 2, 2, 1, "cpu"), (s.Steps, s.CheckpointEvery, s.IgSteps, s.Seeds, s.Device));
        Assert.Equal(ReproduceSettings.AllMethods, s.Methods);

        // LoRA at the preset's rank 32 on every adapted matrix: r·(d_in + d_out) each.
        var summary = Csv.Read(Path.Combine(outDir, "summary.csv")).ToDictionary(x => x.Text["method"]);
        long perRank = 4 * (3L * 128 + 128 + (64 + 256) + (256 + 64));
        Assert.Equal(32 * perRank, (long)summary["lora"]["trainable_parameters"]);
        // Only the latest checkpoint is kept (a 1.4B model's checkpoints are large).
        Assert.Equal(["step-000004"], Directory.GetDirectories(Path.Combine(outDir, "runs", "full")).Select(Path.GetFileName));
        // One seed: findings carry no interval.
        using var findings = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "findings.json")));
        Assert.Equal(1, findings.RootElement.GetProperty("seeds").GetInt32());
        Assert.Equal(JsonValueKind.Null, findings.RootElement.GetProperty("accuracy_gain_pp").GetProperty("ci95").ValueKind);
    }
}
