using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Patching;
using CircuitNotebooks.Tests.Models;
using CircuitNotebooks.Tests.Reference;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Attribution;

/// <summary>
/// One-pass faithfulness against the definition: random circuits of many densities, each evaluated by the engine (1 and
/// 4 circuits per forward, padded batch) and by one explicit double-precision patched forward
/// (<see cref="NaiveEdgePatching"/>) on the same weights.
/// </summary>
public class RandomCircuitFaithfulnessTests
{
    private static readonly double[] Densities = [0, 0.01, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1, 0.02, 0.25, 0.75];

    [Theory]
    [InlineData("gpt2", 1)]
    [InlineData("gpt2", 4)]
    [InlineData("neox", 1)]
    [InlineData("neox", 4)]
    [InlineData("llama", 1)]
    [InlineData("llama", 4)]
    public void RandomCircuitsMatchAnExplicitPatchedForward(string arch, int circuitsPerForward)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch, seed: 3);
        var cfg = model.Config;
        int[][] clean = [[1, 4, 9, 16, 25], [2, 3, 5, 7, 0]], corrupt = [[6, 12, 18, 24, 30], [11, 13, 17, 19, 0]];
        int[][] mask = [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]]; // row 1 right-padded: its answer is at position 3
        long[] correct = [3, 7], wrong = [5, 9];
        var maskTensor = tensor(mask.SelectMany(r => r.Select(x => (long)x)).ToArray(), [2, 5]);
        var batch = new AttributionBatch(Tokens(clean), Tokens(corrupt), maskTensor, Metric.LogitDiff(correct, wrong, maskTensor));
        var weights = NaiveWeights.FromTensors(model.StateDict());

        var graph = CircuitGraph.FromConfig(cfg);
        var rng = new Random(17);
        var circuits = Densities.Select(d =>
        {
            var edges = new bool[graph.DenseLength];
            foreach (var i in graph.RealEdges()) edges[i] = rng.NextDouble() < d;
            return Circuit.Create(graph, new float[graph.DenseLength], edges, null);
        }).ToList();

        using var evaluator = new FaithfulnessEvaluator(model, batch) { CopiesPerForward = circuitsPerForward };
        var results = evaluator.Evaluate(circuits);

        double LogitDiff(double[][][] logits) => Enumerable.Range(0, 2).Average(b =>
        {
            int answer = Array.LastIndexOf(mask[b], 1);
            return logits[b][answer][correct[b]] - logits[b][answer][wrong[b]];
        });
        var expected = circuits.Select(c => LogitDiff(NaiveEdgePatching.Forward(cfg, weights, clean, corrupt, mask, c.CopyEdgeMask()))).ToArray();
        double scale = Math.Max(1, expected.Max(Math.Abs));
        for (int i = 0; i < circuits.Count; i++)
            Assert.True(Math.Abs(results[i].Circuit - expected[i]) <= 2e-4 * scale,
                $"density {Densities[i]}: engine {results[i].Circuit:g6}, reference {expected[i]:g6}");
        // The full circuit is the clean run and the empty one the corrupted run.
        Assert.Equal(LogitDiff(NaiveTransformer.Forward(cfg, weights, clean, mask)), evaluator.CleanMetric, 3);
        Assert.Equal(LogitDiff(NaiveTransformer.Forward(cfg, weights, corrupt, mask)), evaluator.CorruptedMetric, 3);
        // Circuits must differ in effect, or agreement would say little.
        Assert.True(expected.Max() - expected.Min() > 0.1, $"patched metrics barely differ: {string.Join(", ", expected.Select(x => x.ToString("g3")))}");
    }

    private static TorchSharp.torch.Tensor Tokens(int[][] rows) =>
        tensor(rows.SelectMany(r => r.Select(x => (long)x)).ToArray(), [rows.Length, rows[0].Length]);
}
