using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.FineTuning;
using CircuitNotebooks.Tests.Models;
using Xunit;
using static TorchSharp.torch;
using static CircuitNotebooks.Tests.Attribution.AttributionFixtures;

namespace CircuitNotebooks.Tests.Attribution;

/// <summary>Edge work on a model with attention LoRA adapters attached equals the same work on the merged weights.</summary>
public class AdapterAttributionTests
{
    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void AttachedAdaptersInTrainingModeScoreLikeTheMergedModel(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var batch = Batch(model);
        // Dropout on and training mode left switched on, as mid-training: attribution must use the adapted weights
        // themselves, not a dropout sample of them.
        using var lora = LoraModel.Attach(model, new LoraConfig { Rank = 2, Alpha = 5, Dropout = 0.5, Targets = ["attn.*"] }, seed: 7);
        using (no_grad())
        {
            var gen = new Generator(11);
            foreach (var m in lora.Modules) m.Adapter.B.copy_(randn(m.Adapter.B.shape, generator: gen) * 0.3);
        }
        lora.Training = true;
        var options = new AttributionOptions { Method = AttributionMethod.EapIgInputs, Steps = 3 };
        var attached = EdgeAttribution.Compute(model, batch, options);
        var circuit = CircuitSelection.TopN(attached.ToCircuit(), attached.Graph.EdgeCount / 4);
        double faithAttached;
        using (var eval = new FaithfulnessEvaluator(model, batch)) faithAttached = eval.Evaluate(circuit).Circuit;

        lora.Merge();
        var merged = EdgeAttribution.Compute(model, batch, options);
        double faithMerged;
        using (var eval = new FaithfulnessEvaluator(model, batch)) faithMerged = eval.Evaluate(circuit).Circuit;

        double scale = attached.Scores.Max(x => Math.Abs(x));
        Assert.True(scale > 1e-3, "scores must be non-trivial for the test to mean anything");
        Assert.True(MaxAbsDiff(attached.Scores, merged.Scores) < 1e-4 * Math.Max(1, scale), $"max diff {MaxAbsDiff(attached.Scores, merged.Scores)}");
        Assert.Equal(faithMerged, faithAttached, 4);
    }
}
