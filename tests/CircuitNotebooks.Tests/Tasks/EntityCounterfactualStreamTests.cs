using CircuitNotebooks.Tasks;
using Xunit;

namespace CircuitNotebooks.Tests.Tasks;

public class EntityCounterfactualStreamTests
{
    [Fact]
    public void CounterfactualKindLeavesCleanPromptsUnchanged()
    {
        var swap = new EntityTrackingGenerator("a", TinySuite.EntityTrackingOptions).Generate(200, 5, TinySuite.Template);
        var fresh = new EntityTrackingGenerator("a", TinySuite.EntityTrackingOptions with { Counterfactual = EntityCounterfactual.Fresh })
            .Generate(200, 5, TinySuite.Template);
        Assert.Equal(swap.Select(e => (e.Clean, e.Label)), fresh.Select(e => (e.Clean, e.Label)));
        // Swap keeps the object (only its position moves); fresh counterfactuals mostly ask for another object.
        Assert.All(swap, e => Assert.Equal(e.Label, e.CorruptedLabel));
        Assert.True(fresh.Count(e => e.Label != e.CorruptedLabel) > 150);
        // Deterministic for a seed.
        var again = new EntityTrackingGenerator("a", TinySuite.EntityTrackingOptions with { Counterfactual = EntityCounterfactual.Fresh })
            .Generate(200, 5, TinySuite.Template);
        Assert.Equal(fresh.Select(e => e.Corrupted), again.Select(e => e.Corrupted));
    }
}
