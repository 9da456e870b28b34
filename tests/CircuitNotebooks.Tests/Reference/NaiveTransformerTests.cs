using CircuitNotebooks.Models;
using Xunit;

namespace CircuitNotebooks.Tests.Reference;

/// <summary>The oracle against hand arithmetic and against properties any correct transformer must have.</summary>
public class NaiveTransformerTests
{
    private static int[] RandomTokens(int seed, int n, int vocab)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => r.Next(vocab)).ToArray();
    }

    private static void AssertClose(double[] expected, double[] actual, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol,
                $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    // ---------- a one-layer model small enough to do by hand ----------

    private static ModelConfig HandConfig() => new()
    {
        Architecture = Architecture.Gpt2, NLayers = 1, DModel = 2, NHeads = 1, DMlp = 2, DVocab = 3, NCtx = 4,
        Norm = NormKind.RmsNorm, NormEps = 0, Act = Activation.Relu,
    };

    private static NaiveWeights HandWeights()
    {
        NaiveTensor T(int[] shape, params double[] data) => new(data, shape);
        return new NaiveWeights(new Dictionary<string, NaiveTensor>
        {
            ["embed.W_E"] = T([3, 2], 1, 7, 9, 9, 4, 4),
            ["pos_embed.W_pos"] = T([4, 2], 0, 0, 3, -3, 0, 0, 0, 0),
            ["blocks.0.ln1.w"] = T([2], 1, 2),
            ["blocks.0.ln2.w"] = T([2], 1, 1),
            ["blocks.0.attn.W_Q"] = T([1, 2, 2], 1, 0, 0, 1),
            ["blocks.0.attn.W_K"] = T([1, 2, 2], 1, 0, 0, 1),
            ["blocks.0.attn.W_V"] = T([1, 2, 2], 1, 1, 0, 1),
            ["blocks.0.attn.W_O"] = T([1, 2, 2], 1, 0, 0, 1),
            ["blocks.0.attn.b_Q"] = T([1, 2], 0, 0),
            ["blocks.0.attn.b_K"] = T([1, 2], 0, 0),
            ["blocks.0.attn.b_V"] = T([1, 2], 0, 0),
            ["blocks.0.attn.b_O"] = T([2], 0.5, -0.5),
            ["blocks.0.mlp.W_in"] = T([2, 2], 1, -1, 1, 1),
            ["blocks.0.mlp.b_in"] = T([2], 0, -1),
            ["blocks.0.mlp.W_out"] = T([2, 2], 1, 0, 0, 2),
            ["blocks.0.mlp.b_out"] = T([2], 0.1, 0.2),
            ["ln_final.w"] = T([2], 1, 1),
            ["unembed.W_U"] = T([2, 3], 1, 0, -1, 0, 1, 1),
            ["unembed.b_U"] = T([3], 0, 0.5, 0),
        });
    }

    [Fact]
    public void OneLayerModelMatchesHandComputation()
    {
        var trace = NaiveTransformer.Run(HandConfig(), HandWeights(), [[0, 2]]);

        // Embeddings: tok 0 at pos 0 → (1,7); tok 2 at pos 1 → (4,4)+(3,−3) = (7,1).
        // ln1 (RMS, eps 0): both have mean square 25 → /5, then ·w (1,2).
        double[] n0 = [0.2, 2.8], n1 = [1.4, 0.4];
        AssertClose([0.2, 2.8, 1.4, 0.4], trace["blocks.0.ln1.hook_normalized"].Data, 1e-14, "ln1");
        // q = k = n; v = n·[[1,1],[0,1]] = (a, a+b).
        double[] v0 = [0.2, 3.0], v1 = [1.4, 1.8];
        double s10 = (1.4 * 0.2 + 0.4 * 2.8) / Math.Sqrt(2), s11 = (1.4 * 1.4 + 0.4 * 0.4) / Math.Sqrt(2);
        double p11 = 1 / (1 + Math.Exp(s10 - s11)), p10 = 1 - p11;
        AssertClose([1, 0, p10, p11], trace.Pattern(0).Data, 1e-14, "pattern");
        Assert.Equal(NaiveTransformer.MaskedScore, trace["blocks.0.attn.hook_attn_scores"][0, 0, 0, 1]);
        double[] z1 = [p10 * v0[0] + p11 * v1[0], p10 * v0[1] + p11 * v1[1]];
        AssertClose([v0[0], v0[1], z1[0], z1[1]], trace.Z(0).Data, 1e-14, "z");

        double[][] x = [[1, 7], [7, 1]];
        double[][] z = [v0, z1];
        var expected = new List<double>();
        for (int p = 0; p < 2; p++)
        {
            // resid_mid = x + z·I + b_O
            double ma = x[p][0] + z[p][0] + 0.5, mb = x[p][1] + z[p][1] - 0.5;
            double r = Math.Sqrt((ma * ma + mb * mb) / 2);
            double na = ma / r, nb = mb / r;
            // pre = n·[[1,−1],[1,1]] + (0,−1); relu; out = post·diag(1,2) + (0.1,0.2)
            double pre0 = na + nb, pre1 = -na + nb - 1;
            double o0 = Math.Max(pre0, 0) + 0.1, o1 = 2 * Math.Max(pre1, 0) + 0.2;
            double ra = ma + o0, rb = mb + o1;
            double rf = Math.Sqrt((ra * ra + rb * rb) / 2);
            double fa = ra / rf, fb = rb / rf;
            // W_U = [[1,0,−1],[0,1,1]], b_U = (0,0.5,0)
            expected.AddRange([fa, fb + 0.5, -fa + fb]);
        }
        var logits = trace.Logits[0].SelectMany(row => row).ToArray();
        AssertClose(expected.ToArray(), logits, 1e-13, "logits");
        // Same case worked independently in Python (plain floats) as a check on the arithmetic above.
        AssertClose([0.4607539648813882, 1.8370511522922677, 0.8762971874108795,
                     1.359853257594893, 0.8883286208980198, -0.9715246366968732], logits, 1e-13, "logits(py)");
    }

    // ---------- properties on every tiny architecture ----------

    [Theory]
    [MemberData(nameof(TinyConfigs.All), MemberType = typeof(TinyConfigs))]
    public void IsCausal(string name)
    {
        var cfg = TinyConfigs.ByName(name);
        var w = NaiveWeights.Random(cfg, seed: 1, scale: 0.3);
        var a = RandomTokens(2, 6, cfg.DVocab);
        var b = (int[])a.Clone();
        b[3] = (b[3] + 1) % cfg.DVocab;
        var la = NaiveTransformer.Forward(cfg, w, [a]);
        var lb = NaiveTransformer.Forward(cfg, w, [b]);
        for (int p = 0; p < 3; p++) Assert.Equal(la[0][p], lb[0][p]);
        for (int p = 3; p < 6; p++)
            Assert.True(la[0][p].Zip(lb[0][p], (u, v) => Math.Abs(u - v)).Max() > 1e-6, $"position {p} ignored the change");
    }

    [Theory]
    [MemberData(nameof(TinyConfigs.All), MemberType = typeof(TinyConfigs))]
    public void LeftAndRightPaddingMatchUnpaddedRun(string name)
    {
        var cfg = TinyConfigs.ByName(name);
        var w = NaiveWeights.Random(cfg, seed: 3, scale: 0.3);
        var seq = RandomTokens(4, 5, cfg.DVocab);
        var single = NaiveTransformer.Forward(cfg, w, [seq]);

        // Pad ids differ on purpose: the mask alone must hide them.
        int[] left = [7, 0, .. seq], leftMask = [0, 0, 1, 1, 1, 1, 1];
        int[] right = [.. seq, 0, 11], rightMask = [1, 1, 1, 1, 1, 0, 0];
        var batched = NaiveTransformer.Forward(cfg, w, [left, right], [leftMask, rightMask]);
        for (int p = 0; p < 5; p++)
        {
            AssertClose(single[0][p], batched[0][p + 2], 1e-12, $"{name} left-padded pos {p}");
            AssertClose(single[0][p], batched[1][p], 1e-12, $"{name} right-padded pos {p}");
        }
        // Without the mask the pads are real tokens, so the left-padded logits must change.
        var unmasked = NaiveTransformer.Forward(cfg, w, [left]);
        Assert.True(unmasked[0][2].Zip(single[0][0], (u, v) => Math.Abs(u - v)).Max() > 1e-6);
    }

    [Theory]
    [MemberData(nameof(TinyConfigs.All), MemberType = typeof(TinyConfigs))]
    public void PatternRowsSumToOneAndRespectMasks(string name)
    {
        var cfg = TinyConfigs.ByName(name);
        var w = NaiveWeights.Random(cfg, seed: 5, scale: 0.3);
        int[] mask = [0, 1, 1, 1, 0];
        var trace = NaiveTransformer.Run(cfg, w, [RandomTokens(6, 5, cfg.DVocab)], [mask]);
        for (int l = 0; l < cfg.NLayers; l++)
        {
            var pat = trace.Pattern(l);
            Assert.Equal([1, cfg.NHeads, 5, 5], pat.Shape);
            for (int h = 0; h < cfg.NHeads; h++)
                for (int q = 0; q < 5; q++)
                {
                    double sum = 0;
                    for (int k = 0; k < 5; k++)
                    {
                        double v = pat[0, h, q, k];
                        Assert.False(double.IsNaN(v));
                        sum += v;
                        if (q > 0 && (k > q || mask[k] == 0)) Assert.Equal(0.0, v);
                    }
                    Assert.Equal(1.0, sum, 1e-12);
                }
            // Query 0 sees only a padding key: a fully masked row, which must be uniform, not NaN.
            for (int h = 0; h < cfg.NHeads; h++)
                for (int k = 0; k < 5; k++) Assert.Equal(0.2, pat[0, h, 0, k], 1e-15);
        }
        Assert.All(trace.Logits[0].SelectMany(r => r), v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void GroupedQueryAttentionEqualsMultiHeadWithSharedKv()
    {
        // Query head h reads kv head h / (n_heads / n_kv): duplicating kv heads that way gives an MHA model that must
        // agree exactly; the interleaved duplication (h % n_kv) must not.
        var gqa = TinyConfigs.LlamaGqa();
        var mha = TinyConfigs.Llama();
        var wg = NaiveWeights.Random(gqa, seed: 8, scale: 0.3);
        NaiveWeights Expand(Func<int, int> kvOf)
        {
            var wm = wg.Clone();
            for (int l = 0; l < gqa.NLayers; l++)
                foreach (var m in new[] { "W_K", "W_V" })
                {
                    var src = wg[$"blocks.{l}.attn.{m}"];
                    var dst = NaiveTensor.Zeros(mha.NHeads, mha.DModel, mha.DHead);
                    for (int h = 0; h < mha.NHeads; h++)
                        for (int i = 0; i < mha.DModel; i++)
                            for (int j = 0; j < mha.DHead; j++) dst[h, i, j] = src[kvOf(h), i, j];
                    wm[$"blocks.{l}.attn.{m}"] = dst;
                }
            return wm;
        }
        var tokens = RandomTokens(9, 6, gqa.DVocab);
        var lg = NaiveTransformer.Forward(gqa, wg, [tokens]);
        var lm = NaiveTransformer.Forward(mha, Expand(h => h / 2), [tokens]);
        var wrong = NaiveTransformer.Forward(mha, Expand(h => h % 2), [tokens]);
        for (int p = 0; p < 6; p++) AssertClose(lm[0][p], lg[0][p], 1e-12, $"pos {p}");
        Assert.True(wrong[0][5].Zip(lg[0][5], (u, v) => Math.Abs(u - v)).Max() > 1e-6);
    }

    [Fact]
    public void ParallelBlockAddsAttnAndMlpOfResidPre()
    {
        var cfg = TinyConfigs.NeoX();
        var w = NaiveWeights.Random(cfg, seed: 10, scale: 0.3);
        var trace = NaiveTransformer.Run(cfg, w, [RandomTokens(11, 4, cfg.DVocab)]);
        Assert.False(trace.Contains("blocks.0.hook_resid_mid"));
        for (int l = 0; l < cfg.NLayers; l++)
        {
            var pre = trace.ResidPre(l).Data;
            var sum = pre.Select((v, i) => v + trace.AttnOut(l).Data[i] + trace.MlpOut(l).Data[i]).ToArray();
            AssertClose(sum, trace.ResidPost(l).Data, 1e-14, $"resid_post {l}");
            // ln2 reads resid_pre, not resid_pre + attn_out.
            var ln2 = trace[$"blocks.{l}.ln2.hook_normalized"];
            for (int p = 0; p < 4; p++)
            {
                var x = Enumerable.Range(0, cfg.DModel).Select(i => trace.ResidPre(l)[0, p, i]).ToArray();
                var expected = NaiveMath.LayerNorm(x, w[$"blocks.{l}.ln2.w"].Data, w[$"blocks.{l}.ln2.b"].Data, cfg.NormEps);
                AssertClose(expected, Enumerable.Range(0, cfg.DModel).Select(i => ln2[0, p, i]).ToArray(), 1e-14, "ln2");
            }
        }
    }

    [Theory]
    [InlineData("Gpt2")]
    [InlineData("Llama")]
    public void SequentialBlockWiringAndResidualStreamChain(string name)
    {
        var cfg = TinyConfigs.ByName(name);
        var w = NaiveWeights.Random(cfg, seed: 12, scale: 0.3);
        var trace = NaiveTransformer.Run(cfg, w, [RandomTokens(13, 4, cfg.DVocab)]);
        for (int l = 0; l < cfg.NLayers; l++)
        {
            var mid = trace.ResidPre(l).Data.Select((v, i) => v + trace.AttnOut(l).Data[i]).ToArray();
            AssertClose(mid, trace.ResidMid(l).Data, 1e-14, "resid_mid");
            var post = mid.Select((v, i) => v + trace.MlpOut(l).Data[i]).ToArray();
            AssertClose(post, trace.ResidPost(l).Data, 1e-14, "resid_post");
            if (l > 0) Assert.Equal(trace.ResidPost(l - 1).Data, trace.ResidPre(l).Data);
            // attn_out = Σ_h result_h + b_O
            var res = trace[$"blocks.{l}.attn.hook_result"];
            for (int p = 0; p < 4; p++)
                for (int m = 0; m < cfg.DModel; m++)
                {
                    double s = cfg.AttnBias ? w[$"blocks.{l}.attn.b_O"][m] : 0;
                    for (int h = 0; h < cfg.NHeads; h++) s += res[0, p, h, m];
                    Assert.Equal(s, trace.AttnOut(l)[0, p, m], 1e-14);
                }
        }
        // Embedding: resid_pre 0 = W_E[tok] (+ W_pos[pos])
        Assert.Equal(cfg.Rotary, !trace.Contains("hook_pos_embed"));
    }

    [Fact]
    public void GatedMlpIsActOfGateTimesLinear()
    {
        var cfg = TinyConfigs.Llama();
        var w = NaiveWeights.Random(cfg, seed: 14, scale: 0.3);
        var trace = NaiveTransformer.Run(cfg, w, [RandomTokens(15, 3, cfg.DVocab)]);
        var x = trace["blocks.1.ln2.hook_normalized"];
        var post = trace["blocks.1.mlp.hook_post"];
        var wg = w["blocks.1.mlp.W_gate"]; var wi = w["blocks.1.mlp.W_in"];
        for (int p = 0; p < 3; p++)
            for (int n = 0; n < cfg.DMlp; n += 7)
            {
                double g = 0, lin = 0;
                for (int i = 0; i < cfg.DModel; i++) { g += x[0, p, i] * wg[i, n]; lin += x[0, p, i] * wi[i, n]; }
                Assert.Equal(g / (1 + Math.Exp(-g)) * lin, post[0, p, n], 1e-13);
            }
    }

    [Fact]
    public void PositionIdsFollowHfCumsumConvention()
    {
        Assert.Equal([0, 0, 0, 1, 2], NaiveTransformer.PositionIds([0, 0, 1, 1, 1]));
        Assert.Equal([0, 1, 2, 2, 2], NaiveTransformer.PositionIds([1, 1, 1, 0, 0]));
    }

    [Fact]
    public void BadInputIsRejectedWithNames()
    {
        var cfg = TinyConfigs.Gpt2();
        var w = NaiveWeights.Random(cfg, 1);
        var e1 = Assert.Throws<ArgumentException>(() => NaiveTransformer.Forward(cfg, w, [[1, 50]]));
        Assert.Contains("50", e1.Message);
        Assert.Throws<ArgumentException>(() => NaiveTransformer.Forward(cfg, w, [[1, 2], [3]]));
        Assert.Throws<ArgumentException>(() => NaiveTransformer.Forward(cfg, w, [[1, 2]], [[1, 2]]));
        Assert.Throws<ArgumentException>(() => NaiveTransformer.Forward(cfg, w, [new int[33]]));
    }
}
