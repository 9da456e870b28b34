using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using CircuitNotebooks.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Patching;

public class HeadPathPatchingTests
{
    // Rows put the sender token at different indices, so the per-position grouping is exercised; in a 2-layer model
    // a receiver's query only reaches the logits from the last token, hence rows with the site there.
    private static readonly int[] SitePositions = [5, 2, 5, 3];

    private static (PromptBatch Clean, Tensor Cf) Data(HookedTransformer model)
    {
        var gen = new Generator(5);
        var clean = randint(0, 40, [4, 6], dtype: ScalarType.Int64, generator: gen);
        var cf = randint(0, 40, [4, 6], dtype: ScalarType.Int64, generator: gen);
        long[] labels;
        using (no_grad())
            labels = model.Forward(clean)[TensorIndex.Colon, -1].argmax(-1).data<long>().ToArray(); // p_clean not tiny
        return (new PromptBatch(clean, null, labels, new Dictionary<string, int[]> { ["site"] = SitePositions }), cf);
    }

    private static double PLabel(Tensor logits, int row, long label) =>
        logits[row, -1].to_type(ScalarType.Float64).softmax(-1)[label].item<double>();

    /// <summary>
    /// The two passes written out: pass 1 freezes every head output and MLP output at its clean value except the
    /// sender at each row's site token (counterfactual value) and records the receivers' queries; pass 2 reruns the
    /// clean prompt with only those queries replaced. Score = mean (p − p_clean) / p_clean.
    /// </summary>
    private static double ByHand(HookedTransformer model, PromptBatch clean, Tensor cf, (int L, int H)[] senders, int recvLayer, int[] recvHeads, bool logits)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        bool Keep(string n) => n.EndsWith("attn.hook_z") || n.EndsWith("hook_mlp_out");
        var (cleanLogits, cc) = model.RunWithCache(clean.Tokens, Keep);
        var (_, fc) = model.RunWithCache(cf, Keep);
        var pos = clean.PositionsOf("site");
        int L = model.Config.NLayers;
        var pass1 = new List<(string, HookFunction)>();
        Tensor? recorded = null;
        for (int l = 0; l < L; l++)
        {
            int layer = l;
            pass1.Add(($"blocks.{l}.attn.hook_z", (act, h) =>
            {
                var z = cc[$"blocks.{layer}.attn.hook_z"].clone();
                foreach (var (sl, sh) in senders.Where(x => x.L == layer))
                    for (int r = 0; r < clean.Rows; r++) z[r, pos[r], sh] = fc[$"blocks.{layer}.attn.hook_z"][r, pos[r], sh];
                return z;
            }));
            pass1.Add(($"blocks.{l}.hook_mlp_out", (act, h) => cc[$"blocks.{layer}.hook_mlp_out"].clone()));
        }
        if (!logits)
            pass1.Add(($"blocks.{recvLayer}.attn.hook_q", (act, h) => { recorded = act.clone().MoveToOuterDisposeScope(); return null; }));
        var logits1 = model.RunWithHooks(clean.Tokens, pass1);
        var final = logits1;
        if (!logits)
        {
            final = model.RunWithHooks(clean.Tokens, [($"blocks.{recvLayer}.attn.hook_q", (act, h) =>
            {
                var q = act.clone();
                for (int r = 0; r < clean.Rows; r++)
                    foreach (var rh in recvHeads) q[r, pos[r], rh] = recorded![r, pos[r], rh];
                return q;
            })]);
        }
        double sum = 0;
        for (int r = 0; r < clean.Rows; r++)
        {
            double p0 = PLabel(cleanLogits, r, clean.Labels[r]);
            sum += (PLabel(final, r, clean.Labels[r]) - p0) / p0;
        }
        return sum / clean.Rows;
    }

    [Theory, MemberData(nameof(ModelFixtures.All), MemberType = typeof(ModelFixtures))]
    public void ScoresEqualTwoPassesWrittenByHand(string arch)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel(arch);
        var (clean, cf) = Data(model);
        using (clean)
        {
            var receivers = new HeadReceivers([new AttentionHead(1, 0), new AttentionHead(1, 2)], ReceiverInput.Q);
            var grid = HeadPathPatching.Scores(model, clean, cf, "site", receivers, new PathPatchingOptions { CopiesPerForward = 3 });
            for (int h = 0; h < 4; h++)
            {
                double hand = ByHand(model, clean, cf, [(0, h)], 1, [0, 2], logits: false);
                Assert.True(Math.Abs(grid[0, h] - hand) < 1e-4 * (1 + Math.Abs(hand)), $"{arch} a0.h{h}: {grid[0, h]} vs {hand}");
                Assert.True(double.IsNaN(grid[1, h]), "heads in the receivers' layer cannot reach them");
            }
            Assert.Contains(Enumerable.Range(0, 4), h => Math.Abs(grid[0, h]) > 1e-3); // the check is not vacuous

            // A sender set patched together (not the sum of single-head scores: the softmax is not linear).
            double set = HeadPathPatching.Score(model, clean, cf, "site", [new AttentionHead(0, 1), new AttentionHead(0, 3)], receivers);
            double setHand = ByHand(model, clean, cf, [(0, 1), (0, 3)], 1, [0, 2], logits: false);
            Assert.True(Math.Abs(set - setHand) < 1e-4 * (1 + Math.Abs(setHand)), $"{arch} set: {set} vs {setHand}");

            var direct = HeadPathPatching.Scores(model, clean, cf, "site", HeadReceivers.Logits);
            foreach (var (l, h) in new[] { (0, 3), (1, 1) })
            {
                double hand = ByHand(model, clean, cf, [(l, h)], 0, [], logits: true);
                Assert.True(Math.Abs(direct[l, h] - hand) < 1e-4 * (1 + Math.Abs(hand)), $"{arch} direct a{l}.h{h}: {direct[l, h]} vs {hand}");
            }
        }
    }

    [Fact]
    public void SelectionTakesTheMostNegativeScoresAndSkipsNaN()
    {
        var s = new double[,] { { -0.5, 0.2, double.NaN }, { -0.1, -0.7, -0.05 } };
        Assert.Equal([new AttentionHead(1, 1), new AttentionHead(0, 0)], HeadSelection.Top(2).Select(s));
        Assert.Equal([new AttentionHead(1, 1), new AttentionHead(0, 0), new AttentionHead(1, 0)], HeadSelection.DropAtLeast(0.1).Select(s));
        Assert.Equal(5, new HeadSelection().Select(s).Count);
    }

    [Fact]
    public void BackwardsDiscoveryFeedsEachGroupAsTheNextReceivers()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFixtures.RandomModel("neox");
        var (clean, cf) = Data(model);
        using (clean)
        {
            var steps = new[]
            {
                new GroupStep("A", PromptBatch.Last, ReceiverInput.Logits, HeadSelection.Top(1)),
                new GroupStep("B", "site", ReceiverInput.V, HeadSelection.Top(2)),
            };
            var groups = HeadGroupDiscovery.Backwards(model, clean, cf, steps);
            var a = groups[0];
            var min = Enumerable.Range(0, 8).Select(i => (Head: new AttentionHead(i / 4, i % 4), Score: a.Scores[i / 4, i % 4])).MinBy(x => x.Score);
            Assert.Equal([min.Head], a.Heads);
            var expectedB = HeadPathPatching.Scores(model, clean, cf, "site", new HeadReceivers(a.Heads, ReceiverInput.V));
            Assert.Equal(expectedB, groups[1].Scores);
            Assert.All(groups[1].Sites, s => Assert.Equal("site", s.Position));
        }
    }
}
