using CircuitNotebooks.Cli.Tools;
using CircuitNotebooks.FineTuning;
using Xunit;
using Xunit.Abstractions;

namespace CircuitNotebooks.Cli.Tests.Tools;

public class BenchmarkTests(ITestOutputHelper output)
{
    [Fact]
    public void BenchmarkReportsConsistentNumbersOnTinyModel()
    {
        var cfg = ToolFixtures.LlamaGqa;
        var r = TrainingBenchmarks.Run(new TrainingBenchmarkOptions
        {
            Model = cfg, BatchSize = 2, SequenceLength = 8, WarmupSteps = 1, StepsPerRound = 1, Rounds = 2, LoraRank = 4,
            OtherRank = 2, CriticalRank = 6, CriticalLayers = [1],
        });
        output.WriteLine(r.ToString());
        long d = cfg.DModel, q = cfg.NHeads * cfg.DHead, kv = cfg.KvHeads * cfg.DHead, f = cfg.DMlp;
        long perRank = (d + q) + 2 * (d + kv) + (q + d) + 2 * (d + f) + (f + d); // one layer, rank 1
        Assert.Equal(cfg.NLayers * 4 * perRank, r.Lora.TrainableParameters);
        Assert.Equal((2 + 6) * perRank, r.CircuitLora.TrainableParameters);
        Assert.Equal(r.BaseParameters, r.Full.TrainableParameters);
        foreach (var e in new[] { r.Full, r.Lora, r.CircuitLora })
        {
            Assert.True(e.MedianStepSeconds > 0);
            Assert.Equal(16 / e.MedianStepSeconds, e.TokensPerSecond, 6);
        }
        Assert.Equal(r.Lora.MedianStepSeconds / r.Full.MedianStepSeconds, r.LoraToFullStepRatio, 12);
    }

    /// <summary>The d_model = 512 measurement: minutes on a shared CPU, so skipped in the suite (the CLI bench runs it).</summary>
    [Fact(Skip = "d_model 512 timing takes about a minute of a shared CPU; run via the bench command or remove Skip locally")]
    public void LoraStepIsCheaperThanFullOnD512()
    {
        var r = TrainingBenchmarks.Run(progress: new SyncProgress<string>(output.WriteLine));
        output.WriteLine(r.ToString());
        Assert.True(r.LoraToFullStepRatio <= 0.8, $"LoRA/full step-time ratio {r.LoraToFullStepRatio:F3}");
    }
}
