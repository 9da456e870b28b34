using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.FineTuning;
using CircuitNotebooks.Tasks;
using CircuitNotebooks.Tests.Tasks;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Circuits;

public class CircuitDiscoveryTests
{
    [Fact]
    public void DiscoverFromATaskNameIsTheStepsDoneByHand()
    {
        using var scope = NewDisposeScope();
        using var model = TinySuiteModel.CreateUntrained(seed: 8);
        var options = new DiscoveryOptions { Steps = 2, EdgeCount = 25, Examples = 6, Seed = 3 };

        var found = CircuitDiscovery.Discover(model, "addsub", options);

        // By hand: examples that fit the tokenizer, one batch, EAP-IG scores, top 25 by |score|, pruned, faithfulness.
        var examples = TaskCatalog.Examples(model, "addsub", 6, seed: 3);
        var batch = TaskBatches.ForAttribution(model, examples, TaskMetric.LogitDiff);
        var scores = EdgeAttribution.Compute(model, batch, new AttributionOptions { Method = AttributionMethod.EapIgInputs, Steps = 2 });
        var circuit = CircuitPruning.Prune(CircuitSelection.TopN(scores.ToCircuit(), 25)).Circuit;
        using var evaluator = new FaithfulnessEvaluator(model, batch);
        var faithfulness = evaluator.Evaluate(circuit);

        Assert.Equal(scores.Scores, found.Scores.Scores);
        Assert.Equal(circuit.CopyEdgeMask(), found.Circuit.CopyEdgeMask());
        Assert.Equal(circuit.CopyNodeMask(), found.Circuit.CopyNodeMask());
        Assert.Equal(faithfulness.Circuit, found.Faithfulness!.Circuit, 9);
        Assert.Equal(faithfulness.Normalized, found.Circuit.Metadata.Faithfulness!.Value, 9);
        Assert.Equal("addsub", found.Circuit.Metadata.Task);
        Assert.Equal("logit_diff", found.Circuit.Metadata.Metric);
        Assert.Equal("EAP-IG-inputs(m=2)", found.Circuit.Metadata.Method);
        Assert.InRange(found.Circuit.EdgeCountInCircuit, 1, 25);
    }

    [Fact]
    public void BudgetsAndSwitchesAreHonoured()
    {
        using var scope = NewDisposeScope();
        using var model = TinySuiteModel.CreateUntrained(seed: 9);
        var examples = TaskCatalog.Examples(model, "addsub", 4);
        var graph = CircuitGraph.FromConfig(model.Config);
        var unpruned = CircuitDiscovery.Discover(model, examples,
            new DiscoveryOptions { Method = AttributionMethod.Eap, EdgeFraction = 0.1, Prune = false, Faithfulness = false });
        Assert.Equal(CircuitSelection.EdgesForFraction(graph.EdgeCount, 0.1), unpruned.Circuit.EdgeCountInCircuit);
        Assert.Null(unpruned.Faithfulness);
        Assert.Null(unpruned.Circuit.Metadata.IgSteps);
        // A count wins over the fraction, and is clamped to the real edges.
        Assert.Equal(graph.EdgeCount, new DiscoveryOptions { EdgeCount = int.MaxValue }.EdgesFor(graph.EdgeCount));
        Assert.Equal(1, new DiscoveryOptions { EdgeFraction = 0 }.EdgesFor(graph.EdgeCount));
    }

    [Fact]
    public void UnknownTasksAndHeadLevelCircuitsFailWithClearErrors()
    {
        using var scope = NewDisposeScope();
        using var model = TinySuiteModel.CreateUntrained(seed: 10);
        var e = Assert.Throws<KeyNotFoundException>(() => CircuitDiscovery.Discover(model, "no-such-task"));
        Assert.Contains("addsub", e.Message);
        var examples = TaskCatalog.Examples(model, "addsub", 2);
        var batch = TaskBatches.ForAttribution(model, examples);
        using var evaluator = new FaithfulnessEvaluator(model, batch);
        var head = HeadLevelView.Collapse(Circuit.FromScores(evaluator.Graph, new float[evaluator.Graph.DenseLength]));
        var ex = Assert.Throws<ArgumentException>(() => evaluator.Evaluate(head));
        Assert.Contains("Head", ex.Message);
    }

    [Fact]
    public void TaskCatalogKeepsOnlyExamplesTheTokenizerCanScoreAndSplitsThem()
    {
        using var model = TinySuiteModel.CreateUntrained(seed: 11);
        var data = TaskCatalog.Load(model, "arith-seq", 40, seed: 2);
        Assert.Equal(40, data.Validation.Total);
        Assert.Equal(data.Validation.Kept, data.Train.Count + data.Test.Count);
        Assert.Empty(data.Train.Intersect(data.Test));
        Assert.All(data.Train.Concat(data.Test), x => Assert.Empty(TaskValidator.Check(x, model.Tokenizer!, new ValidationOptions(CheckCorruptedLabel: true))));
        Assert.Contains("addsub", TaskCatalog.Names);
        Assert.True(TaskCatalog.Contains("composite"));
    }

    [Fact]
    public void ExactMatchOnTaskExamplesIsTheArgmaxAtTheAnswerPosition()
    {
        using var scope = NewDisposeScope();
        using var model = TinySuiteModel.CreateUntrained(seed: 12);
        var examples = TaskCatalog.Examples(model, "addsub", 12);
        int hits = 0;
        using (no_grad())
            foreach (var e in examples)
            {
                var logits = model.Forward(model.ToTokens(e.Clean));
                if (logits[0, -1].argmax().item<long>() == model.Tokenizer!.Encode(" " + e.Label)[0]) hits++;
            }
        Assert.Equal(hits / 12.0, Evaluation.ExactMatch(model, examples, batchSize: 5), 12);
    }

    [Fact]
    public void RankPlanBecomesTheLoraConfigItDescribes()
    {
        var cfg = TinySuiteModel.Config with { NLayers = 4 };
        var (plan, budget) = CircuitLoraPlanner.PlanMatchingLora(cfg, [1, 3], loraRank: 8);
        var lora = plan.ToLoraConfig(new LoraConfig { Dropout = 0.1 });
        Assert.Equal(0.1, lora.Dropout);
        for (int l = 0; l < 4; l++)
        {
            var expected = l is 1 or 3 ? budget.CriticalRank : budget.OtherRank;
            Assert.Equal(expected, lora.SettingFor(l).Rank);
            Assert.Equal(CircuitLoraPlanner.DefaultAlphaPerRank * expected, lora.SettingFor(l).Alpha);
        }
        Assert.Equal(budget.PlanParameters, plan.ParameterCount(cfg, LoraTargets.AllSeparate(cfg)));
    }
}
