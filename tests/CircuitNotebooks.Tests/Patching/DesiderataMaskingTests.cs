using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Patching;

public class DesiderataMaskingTests
{
    private const int V = 8, Filler = 7, Const = 16;

    /// <summary>
    /// One attention layer whose heads do known things at the last token, with an otherwise inert model (zero MLP,
    /// one-hot embeddings, a large constant residual dimension so norm scales barely move):
    /// h0 copies the token at position 0 to the logits (the property under test), h1 copies it negatively,
    /// h2 copies the token at position 1, h3 reads position 2 but outputs nothing.
    /// </summary>
    private static HookedTransformer PlantedModel()
    {
        var cfg = new ModelConfig
        {
            Architecture = Architecture.Gpt2, NLayers = 1, DModel = 64, NHeads = 4, DMlp = 4, DVocab = V, NCtx = 8,
            Norm = NormKind.RmsNorm, Act = Activation.Relu, AttnBias = false, MlpBias = false,
        };
        var m = new HookedTransformer(cfg);
        using var _ = no_grad();
        foreach (var (_, p) in m.NamedParameters()) p.zero_();
        for (int t = 0; t < V; t++) { m.embed_W_E[t, t] = 1f; m.embed_W_E[t, Const] = 60f; m.unembed_W_U[t, t] = 1f; }
        for (int p = 0; p < 8; p++) m.pos_embed_W_pos![p, V + p] = 1f;
        var ln1 = m.Blocks[0].ln1.w;
        double rms = Math.Sqrt((1 + 1 + 3600) / 64.0);
        for (int d = 0; d < 2 * V; d++) ln1[d] = (float)rms; // token and position one-hots come out of ln1 at ~1
        m.ln_final.w.fill_(1);
        m.Blocks[0].ln2.w.fill_(1);
        var a = m.Blocks[0].attn;
        (int Src, float Out)[] heads = [(0, 3f), (0, -1.5f), (1, 1f), (2, 0f)];
        for (int h = 0; h < 4; h++)
        {
            for (int p = 0; p < 8; p++) a.W_Q[h, V + p, 0] = 1f;   // every query asks for ...
            a.W_K[h, V + heads[h].Src, 0] = 80f;                    // ... the head's source position
            for (int t = 0; t < V; t++)
            {
                a.W_V[h, t, t] = 1f;
                a.W_O[h, t, t] = heads[h].Out;
            }
        }
        return m;
    }

    /// <summary>Base (a, x, y, filler) and source (b, x', y', filler), a ≠ b; target = b (the source's position-0 token).</summary>
    private static DesiderataPair Data(int n, int seed)
    {
        var rng = new Random(seed);
        var bases = new long[n * 4];
        var sources = new long[n * 4];
        var targets = new long[n];
        for (int i = 0; i < n; i++)
        {
            long a = rng.Next(6), b = (a + 1 + rng.Next(5)) % 6;
            long[] bRow = [a, rng.Next(6), rng.Next(6), Filler], sRow = [b, rng.Next(6), rng.Next(6), Filler];
            Array.Copy(bRow, 0, bases, i * 4, 4);
            Array.Copy(sRow, 0, sources, i * 4, 4);
            targets[i] = b;
        }
        return new DesiderataPair(new PromptBatch(tensor(bases, [n, 4]), null, targets),
            new PromptBatch(tensor(sources, [n, 4]), null, new long[n]));
    }

    [Fact]
    public void DcmSelectsExactlyTheHeadThatCarriesTheProperty()
    {
        using var scope = NewDisposeScope();
        using var model = PlantedModel();
        using var train = Data(192, 1);
        using var eval = Data(64, 2);
        AttentionHead[] group = [new(0, 0), new(0, 1), new(0, 2), new(0, 3)];
        // The planted circuit works as designed: patching h0 alone moves the answer to the target.
        Assert.Equal(0.0, DesiderataMasking.Accuracy(model, group, PromptBatch.Last, [1, 1, 1, 1], eval));
        Assert.Equal(1.0, DesiderataMasking.Accuracy(model, group, PromptBatch.Last, [0, 1, 1, 1], eval));

        var result = DesiderataMasking.Train(model, group, PromptBatch.Last, train, eval, new DcmOptions { Epochs = 3, BatchSize = 32 });
        Assert.Equal([new AttentionHead(0, 0)], result.Selected);
        Assert.Equal([0.0, 1, 1, 1], result.Mask);
        Assert.Equal(0.25, result.FractionSelected);
        Assert.Equal(1.0, result.EvalAccuracy);
        Assert.True(result.Losses[^1] < result.Losses[0]);
        Assert.All(model.parameters(), p => Assert.Null(p.grad)); // weights stay untouched by mask training
    }

    [Fact]
    public void PatchedLogitsMixBaseAndSourceAtTheRolePositionOnly()
    {
        using var scope = NewDisposeScope();
        using var model = PlantedModel();
        using var pair = Data(8, 3);
        AttentionHead[] group = [new(0, 0)];
        using var _ = no_grad();
        var half = DesiderataMasking.PatchedLogits(model, group, PromptBatch.Last, tensor(new[] { 0.5f }), pair);
        // Written out: z of h0 at the last token = average of base and source z there; everything else the base run.
        var (_, src) = model.RunWithCache(pair.Source.Tokens, n => n == "blocks.0.attn.hook_z");
        var expected = model.RunWithHooks(pair.Base.Tokens, [("blocks.0.attn.hook_z", (act, h) =>
        {
            var z = act.clone();
            z[TensorIndex.Colon, 3, 0] = (act[TensorIndex.Colon, 3, 0] + src["blocks.0.attn.hook_z"][TensorIndex.Colon, 3, 0]) / 2;
            return z;
        })]);
        Assert.True((half - expected).abs().max().item<float>() < 1e-5);
        src.Dispose();
    }
}
