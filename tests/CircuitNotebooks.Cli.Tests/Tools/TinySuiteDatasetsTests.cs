using CircuitNotebooks.Cli.Tools;
using CircuitNotebooks.Tasks;
using Xunit;

namespace CircuitNotebooks.Cli.Tests.Tools;

public class TinySuiteDatasetsTests
{
    [Fact]
    public void WrittenSplitsReadBackDisjointAndComplete()
    {
        var dir = Directory.CreateTempSubdirectory("cn-ds-").FullName;
        try
        {
            TinySuiteDatasets.Write(dir, count: 40, seed: 3);
            foreach (var name in TinySuite.ByName.Keys)
            {
                var train = TaskCsv.Read(Path.Combine(dir, $"{name}.train.csv"));
                var test = TaskJsonl.Read(Path.Combine(dir, $"{name}.test.jsonl"));
                Assert.Equal(36, train.Count);
                Assert.Equal(4, test.Count);
                Assert.Empty(train.Select(e => e.Clean).Intersect(test.Select(e => e.Clean)));
                // Same examples whichever format is read.
                Assert.Equal(TaskJsonl.Read(Path.Combine(dir, $"{name}.train.jsonl")).Select(e => (e.Clean, e.Corrupted, e.Label)),
                    train.Select(e => (e.Clean, e.Corrupted, e.Label)));
            }
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
