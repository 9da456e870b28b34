using CircuitNotebooks.Models;

namespace CircuitNotebooks.Tests.Reference;

/// <summary>
/// The edge-patched forward written from its definition, in double precision, loop by loop, sharing no code with the
/// engine: every destination input v (each head's own q, k and v input; each MLP input; the logits input) is
/// Σ_{u upstream of v} (keep[u, v] ? a_u(this run) : a_u(corrupted run)) + the attention output biases upstream of v.
/// Sources a_u: the embedding (plus positions), each head's z_h · W_O[h], each MLP's output. Indices follow the EAP-IG
/// layout, written out here: source u = 0 (input), 1 + l(H+1) + h (head), 1 + l(H+1) + H (MLP); destination
/// l(3H+1) + kind·H + h (q/k/v), l(3H+1) + 3H (MLP), L(3H+1) (logits); keep is row-major [u, v].
/// </summary>
public static class NaiveEdgePatching
{
    /// <summary>Patched logits [batch][pos][vocab] of the clean tokens; the corrupted run supplies the patched sources.</summary>
    public static double[][][] Forward(ModelConfig cfg, NaiveWeights w, int[][] clean, int[][] corrupt, int[][] mask, bool[] keep)
    {
        var corrupted = NaiveTransformer.Run(cfg, w, corrupt, mask);
        int L = cfg.NLayers, H = cfg.NHeads, F = 1 + L * (H + 1), B = L * (3 * H + 1) + 1;
        if (keep.Length != F * B) throw new ArgumentException($"keep: expected {F}×{B} entries, got {keep.Length}.", nameof(keep));
        var logits = new double[clean.Length][][];
        for (int b = 0; b < clean.Length; b++)
        {
            // Corrupted sources of this row: [u][p][d].
            int P = clean[b].Length, D = cfg.DModel;
            var cor = new double[F][][];
            cor[0] = Rows(corrupted.ResidPre(0), b, P, D);
            for (int l = 0; l < L; l++)
            {
                var result = corrupted[$"blocks.{l}.attn.hook_result"];
                for (int h = 0; h < H; h++)
                    cor[1 + l * (H + 1) + h] = Enumerable.Range(0, P).Select(p => Enumerable.Range(0, D).Select(i => result[b, p, h, i]).ToArray()).ToArray();
                cor[1 + l * (H + 1) + H] = Rows(corrupted[$"blocks.{l}.hook_mlp_out"], b, P, D);
            }
            logits[b] = Row(cfg, w, clean[b], mask[b], cor, keep);
        }
        return logits;
    }

    private static double[][] Row(ModelConfig cfg, NaiveWeights w, int[] tok, int[] mask, double[][][] cor, bool[] keep)
    {
        int L = cfg.NLayers, H = cfg.NHeads, F = 1 + L * (H + 1), B = L * (3 * H + 1) + 1, P = tok.Length, D = cfg.DModel;
        var cur = new double[F][][];
        var pos = NaiveTransformer.PositionIds(mask);
        cur[0] = new double[P][];
        for (int p = 0; p < P; p++)
        {
            cur[0][p] = new double[D];
            for (int i = 0; i < D; i++)
                cur[0][p][i] = w["embed.W_E"][tok[p], i] + (cfg.Rotary ? 0 : w["pos_embed.W_pos"][pos[p], i]);
        }

        // Input of destination v at position p from the sources u < upTo (plus b_O of the attention layers < biasLayers).
        double[] Input(int v, int p, int upTo, int biasLayers)
        {
            var x = new double[D];
            for (int u = 0; u < upTo; u++)
            {
                var src = keep[u * B + v] ? cur[u] : cor[u];
                for (int i = 0; i < D; i++) x[i] += src[p][i];
            }
            if (cfg.AttnBias)
                for (int l = 0; l < biasLayers; l++)
                    for (int i = 0; i < D; i++) x[i] += w[$"blocks.{l}.attn.b_O"][i];
            return x;
        }

        for (int l = 0; l < L; l++)
        {
            int before = 1 + l * (H + 1); // sources of earlier layers
            for (int h = 0; h < H; h++)
            {
                int g = h / (H / cfg.KvHeads);
                double[][] Project(int kind, string weight, string bias, int head) => Enumerable.Range(0, P).Select(p =>
                {
                    var x = Norm(cfg, w, $"blocks.{l}.ln1", Input(l * (3 * H + 1) + kind * H + h, p, before, l));
                    var y = new double[cfg.DHead];
                    for (int j = 0; j < cfg.DHead; j++)
                    {
                        double s = cfg.AttnBias ? w[$"blocks.{l}.attn.{bias}"][head, j] : 0;
                        for (int i = 0; i < D; i++) s += x[i] * w[$"blocks.{l}.attn.{weight}"][head, i, j];
                        y[j] = s;
                    }
                    return y;
                }).ToArray();
                var q = Project(0, "W_Q", "b_Q", h);
                var k = Project(1, "W_K", "b_K", g);
                var v = Project(2, "W_V", "b_V", g);
                if (cfg.Rotary)
                    for (int p = 0; p < P; p++)
                    {
                        q[p] = NaiveMath.Rotary(q[p], pos[p], cfg.RotaryDim, cfg.RotaryBase);
                        k[p] = NaiveMath.Rotary(k[p], pos[p], cfg.RotaryDim, cfg.RotaryBase);
                    }
                var output = new double[P][];
                for (int qi = 0; qi < P; qi++)
                {
                    var row = new double[P];
                    for (int ki = 0; ki < P; ki++)
                        row[ki] = ki <= qi && mask[ki] == 1
                            ? Enumerable.Range(0, cfg.DHead).Sum(j => q[qi][j] * k[ki][j]) / Math.Sqrt(cfg.DHead)
                            : NaiveTransformer.MaskedScore;
                    var pattern = NaiveMath.Softmax(row);
                    var z = Enumerable.Range(0, cfg.DHead).Select(j => Enumerable.Range(0, P).Sum(ki => pattern[ki] * v[ki][j])).ToArray();
                    output[qi] = Enumerable.Range(0, D).Select(m => Enumerable.Range(0, cfg.DHead).Sum(j => z[j] * w[$"blocks.{l}.attn.W_O"][h, j, m])).ToArray();
                }
                cur[before + h] = output;
            }
            // The MLP reads its own layer's heads (and b_O) unless attention and MLP run in parallel.
            int mlpUpTo = cfg.ParallelAttnMlp ? before : before + H;
            int mlpBias = cfg.ParallelAttnMlp ? l : l + 1;
            cur[before + H] = Enumerable.Range(0, P)
                .Select(p => Mlp(cfg, w, l, Norm(cfg, w, $"blocks.{l}.ln2", Input(l * (3 * H + 1) + 3 * H, p, mlpUpTo, mlpBias)))).ToArray();
        }
        return Enumerable.Range(0, P).Select(p =>
        {
            var x = Norm(cfg, w, "ln_final", Input(B - 1, p, F, L));
            return Enumerable.Range(0, cfg.DVocab).Select(t => w["unembed.b_U"][t] + Enumerable.Range(0, D).Sum(i => x[i] * w["unembed.W_U"][i, t])).ToArray();
        }).ToArray();
    }

    private static double[] Mlp(ModelConfig cfg, NaiveWeights w, int l, double[] x)
    {
        string pre = $"blocks.{l}.mlp.";
        int D = cfg.DModel, M = cfg.DMlp;
        var post = new double[M];
        for (int n = 0; n < M; n++)
        {
            double lin = cfg.MlpBias ? w[pre + "b_in"][n] : 0;
            for (int i = 0; i < D; i++) lin += x[i] * w[pre + "W_in"][i, n];
            if (!cfg.GatedMlp) { post[n] = NaiveMath.Activate(cfg.Act, lin); continue; }
            double gate = 0;
            for (int i = 0; i < D; i++) gate += x[i] * w[pre + "W_gate"][i, n];
            post[n] = NaiveMath.Activate(cfg.Act, gate) * lin;
        }
        return Enumerable.Range(0, D).Select(m => (cfg.MlpBias ? w[pre + "b_out"][m] : 0) + Enumerable.Range(0, M).Sum(n => post[n] * w[pre + "W_out"][n, m])).ToArray();
    }

    private static double[] Norm(ModelConfig cfg, NaiveWeights w, string name, double[] x) =>
        cfg.Norm == NormKind.LayerNorm
            ? NaiveMath.LayerNorm(x, w[name + ".w"].Data, w[name + ".b"].Data, cfg.NormEps)
            : NaiveMath.RmsNorm(x, w[name + ".w"].Data, cfg.NormEps);

    private static double[][] Rows(NaiveTensor t, int b, int P, int D) =>
        Enumerable.Range(0, P).Select(p => Enumerable.Range(0, D).Select(i => t[b, p, i]).ToArray()).ToArray();
}
