using CircuitNotebooks.Circuits;
using Xunit;

namespace CircuitNotebooks.Tests.Circuits;

public class CircuitFileTests
{
    private static Circuit Sample(out CircuitNotebooks.Models.ModelConfig cfg)
    {
        cfg = TestCircuits.Gpt2Small with { NLayers = 3, NHeads = 2, DModel = 64 };
        var g = CircuitGraph.FromConfig(cfg);
        var c = CircuitSelection.TopN(TestCircuits.RandomScores(g, 7), 20);
        return c.WithMetadata(new CircuitMetadata
        {
            Task = "add_sub", Method = "EAP-IG-inputs", Metric = "kl", ModelFingerprint = cfg.Fingerprint, IgSteps = 5,
            Label = "ckpt-25", CreatedAt = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero),
        });
    }

    [Fact]
    public void RoundTripWithAllScores()
    {
        var c = Sample(out var cfg);
        var path = Path.Combine(Path.GetTempPath(), $"circuit-{Guid.NewGuid():N}.json");
        try
        {
            CircuitFile.Save(c, path, includeAllScores: true);
            var back = CircuitFile.Load(path, cfg);
            Assert.Equal(c.Scores, back.Scores);
            Assert.Equal(c.EdgeMask, back.EdgeMask);
            Assert.Equal(c.NodeMask, back.NodeMask);
            Assert.Equal(c.Metadata, back.Metadata);
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.*.tmp"));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void WithoutAllScoresOnlyCircuitEdgesKeepScores()
    {
        var c = Sample(out _);
        var back = CircuitFile.FromJson(CircuitFile.ToJson(c));
        for (int i = 0; i < c.Scores.Count; i++)
            Assert.Equal(c.EdgeMask[i] ? c.Scores[i] : 0f, back.Scores[i]);
        Assert.Equal(c.EdgeMask, back.EdgeMask);
    }

    [Fact]
    public void LoadingForAnotherModelNamesBothFingerprints()
    {
        var c = Sample(out var cfg);
        var other = cfg with { NLayers = 4 };
        var ex = Assert.Throws<CircuitModelMismatchException>(() => CircuitFile.EnsureMatches(CircuitFile.FromJson(CircuitFile.ToJson(c)), other));
        Assert.Contains(cfg.Fingerprint, ex.Message);
        Assert.Contains(other.Fingerprint, ex.Message);
    }

    [Fact]
    public void WrongSchemaVersionIsRejected()
    {
        var json = CircuitFile.ToJson(Sample(out _)).Replace("\"schema_version\": 1", "\"schema_version\": 99");
        var ex = Assert.Throws<InvalidDataException>(() => CircuitFile.FromJson(json, "x.json"));
        Assert.Contains("schema_version", ex.Message);
        Assert.Contains("x.json", ex.Message);
    }
}
