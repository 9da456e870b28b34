using CircuitNotebooks.Models;

namespace CircuitNotebooks.Tests.Reference;

/// <summary>
/// The test oracle: a deliberately naive, loop-by-loop double-precision forward pass following contracts.md
/// ("Forward semantics") to the letter. Slow and obvious by design; it shares no code with the engine.
/// </summary>
public static class NaiveTransformer
{
    /// <summary>Value written into masked attention scores: float32's min, as the engine uses, not −∞, so a
    /// fully masked row softmaxes to uniform instead of NaN.</summary>
    public const double MaskedScore = float.MinValue;

    /// <summary>Logits [batch][pos][vocab].</summary>
    public static double[][][] Forward(ModelConfig cfg, NaiveWeights w, int[][] tokens, int[][]? attentionMask = null) =>
        Run(cfg, w, tokens, attentionMask).Logits;

    /// <summary>Forward pass that also records every hook-point activation.</summary>
    public static NaiveTrace Run(ModelConfig cfg, NaiveWeights w, int[][] tokens, int[][]? attentionMask = null)
    {
        cfg.Validate("NaiveTransformer");
        w.Validate(cfg);
        int batch = tokens.Length;
        if (batch == 0) throw new ArgumentException("tokens: batch is empty", nameof(tokens));
        int seq = tokens[0].Length;
        for (int b = 0; b < batch; b++)
        {
            if (tokens[b].Length != seq)
                throw new ArgumentException($"tokens: row {b} has length {tokens[b].Length}, row 0 has {seq}", nameof(tokens));
            foreach (var t in tokens[b])
                if ((uint)t >= (uint)cfg.DVocab)
                    throw new ArgumentException($"tokens: id {t} in row {b} outside vocab 0..{cfg.DVocab - 1}", nameof(tokens));
        }
        if (attentionMask != null)
        {
            if (attentionMask.Length != batch)
                throw new ArgumentException($"attentionMask: {attentionMask.Length} rows, tokens have {batch}", nameof(attentionMask));
            for (int b = 0; b < batch; b++)
            {
                if (attentionMask[b].Length != seq)
                    throw new ArgumentException($"attentionMask: row {b} has length {attentionMask[b].Length}, expected {seq}", nameof(attentionMask));
                foreach (var m in attentionMask[b])
                    if (m != 0 && m != 1)
                        throw new ArgumentException($"attentionMask: row {b} holds {m}; only 0 and 1 are allowed", nameof(attentionMask));
            }
        }

        var trace = new NaiveTrace(cfg.NLayers);
        trace.Logits = new double[batch][][];
        for (int b = 0; b < batch; b++)
        {
            var mask = attentionMask?[b] ?? Enumerable.Repeat(1, seq).ToArray();
            trace.Logits[b] = RunSequence(cfg, w, tokens[b], mask, b, batch, trace);
        }
        return trace;
    }

    /// <summary>HF convention: cumsum(mask) − 1, clipped at 0.</summary>
    public static int[] PositionIds(int[] mask)
    {
        var pos = new int[mask.Length];
        int c = 0;
        for (int p = 0; p < mask.Length; p++) { c += mask[p]; pos[p] = Math.Max(c - 1, 0); }
        return pos;
    }

    // Sequences in a batch never interact, so the oracle runs them one at a time and files results at row b.
    private static double[][] RunSequence(ModelConfig cfg, NaiveWeights w, int[] tok, int[] mask, int b, int batch, NaiveTrace tr)
    {
        int P = tok.Length, D = cfg.DModel;
        var pos = PositionIds(mask);
        foreach (var p in pos)
            if (p >= cfg.NCtx) throw new ArgumentException($"tokens: position {p} exceeds n_ctx {cfg.NCtx}");

        var resid = new double[P][];
        var we = w["embed.W_E"];
        var embed = tr.Slot("hook_embed", batch, P, D);
        NaiveTensor? posEmbed = cfg.Rotary ? null : tr.Slot("hook_pos_embed", batch, P, D);
        for (int p = 0; p < P; p++)
        {
            resid[p] = new double[D];
            for (int i = 0; i < D; i++)
            {
                double e = we[tok[p], i];
                embed[b, p, i] = e;
                resid[p][i] = e;
                if (posEmbed != null)
                {
                    double pe = w["pos_embed.W_pos"][pos[p], i];
                    posEmbed[b, p, i] = pe;
                    resid[p][i] += pe;
                }
            }
        }

        for (int l = 0; l < cfg.NLayers; l++)
        {
            string pre = $"blocks.{l}.";
            Store(tr, pre + "hook_resid_pre", b, batch, resid);
            var ln1 = resid.Select(x => Norm(cfg, w, pre + "ln1", x)).ToArray();
            Store(tr, pre + "ln1.hook_normalized", b, batch, ln1);
            var attnOut = Attention(cfg, w, l, ln1, pos, mask, b, batch, tr);
            Store(tr, pre + "hook_attn_out", b, batch, attnOut);

            double[][] mlpIn;
            if (cfg.ParallelAttnMlp)
            {
                mlpIn = resid;
            }
            else
            {
                mlpIn = Add(resid, attnOut);
                Store(tr, pre + "hook_resid_mid", b, batch, mlpIn);
            }
            Store(tr, pre + "hook_mlp_in", b, batch, mlpIn);
            var ln2 = mlpIn.Select(x => Norm(cfg, w, pre + "ln2", x)).ToArray();
            Store(tr, pre + "ln2.hook_normalized", b, batch, ln2);
            var mlpOut = Mlp(cfg, w, l, ln2, b, batch, tr);
            Store(tr, pre + "hook_mlp_out", b, batch, mlpOut);

            resid = cfg.ParallelAttnMlp ? Add(Add(resid, attnOut), mlpOut) : Add(mlpIn, mlpOut);
            Store(tr, pre + "hook_resid_post", b, batch, resid);
        }

        var fin = resid.Select(x => Norm(cfg, w, "ln_final", x)).ToArray();
        Store(tr, "ln_final.hook_normalized", b, batch, fin);
        var wu = w["unembed.W_U"];
        var bu = w["unembed.b_U"];
        var logits = new double[P][];
        for (int p = 0; p < P; p++)
        {
            logits[p] = new double[cfg.DVocab];
            for (int v = 0; v < cfg.DVocab; v++)
            {
                double s = bu[v];
                for (int i = 0; i < D; i++) s += fin[p][i] * wu[i, v];
                logits[p][v] = s;
            }
        }
        return logits;
    }

    private static double[] Norm(ModelConfig cfg, NaiveWeights w, string name, double[] x) =>
        cfg.Norm == NormKind.LayerNorm
            ? NaiveMath.LayerNorm(x, w[name + ".w"].Data, w[name + ".b"].Data, cfg.NormEps)
            : NaiveMath.RmsNorm(x, w[name + ".w"].Data, cfg.NormEps);

    private static double[][] Attention(ModelConfig cfg, NaiveWeights w, int l, double[][] x, int[] pos, int[] mask,
        int b, int batch, NaiveTrace tr)
    {
        string pre = $"blocks.{l}.attn.";
        int P = x.Length, D = cfg.DModel, H = cfg.NHeads, KV = cfg.KvHeads, dh = cfg.DHead;
        int group = H / KV;
        var wq = w[pre + "W_Q"]; var wk = w[pre + "W_K"]; var wv = w[pre + "W_V"]; var wo = w[pre + "W_O"];

        double[] Project(NaiveTensor wt, string biasName, double[] xp, int head)
        {
            var y = new double[dh];
            for (int j = 0; j < dh; j++)
            {
                double s = cfg.AttnBias ? w[biasName][head, j] : 0.0;
                for (int i = 0; i < D; i++) s += xp[i] * wt[head, i, j];
                y[j] = s;
            }
            return y;
        }

        // q[p][h], k[p][g], v[p][g]: before rotary (TransformerLens hook_q/hook_k), then rotated copies.
        var q = new double[P][][]; var k = new double[P][][]; var v = new double[P][][];
        var rq = new double[P][][]; var rk = new double[P][][];
        var hq = tr.Slot(pre + "hook_q", batch, P, H, dh);
        var hk = tr.Slot(pre + "hook_k", batch, P, KV, dh);
        var hv = tr.Slot(pre + "hook_v", batch, P, KV, dh);
        for (int p = 0; p < P; p++)
        {
            q[p] = new double[H][]; rq[p] = new double[H][];
            k[p] = new double[KV][]; rk[p] = new double[KV][]; v[p] = new double[KV][];
            for (int h = 0; h < H; h++)
            {
                q[p][h] = Project(wq, pre + "b_Q", x[p], h);
                rq[p][h] = cfg.Rotary ? NaiveMath.Rotary(q[p][h], pos[p], cfg.RotaryDim, cfg.RotaryBase) : q[p][h];
                for (int j = 0; j < dh; j++) hq[b, p, h, j] = q[p][h][j];
            }
            for (int g = 0; g < KV; g++)
            {
                k[p][g] = Project(wk, pre + "b_K", x[p], g);
                v[p][g] = Project(wv, pre + "b_V", x[p], g);
                rk[p][g] = cfg.Rotary ? NaiveMath.Rotary(k[p][g], pos[p], cfg.RotaryDim, cfg.RotaryBase) : k[p][g];
                for (int j = 0; j < dh; j++) { hk[b, p, g, j] = k[p][g][j]; hv[b, p, g, j] = v[p][g][j]; }
            }
        }
        if (cfg.Rotary)
        {
            var hrq = tr.Slot(pre + "hook_rot_q", batch, P, H, dh);
            var hrk = tr.Slot(pre + "hook_rot_k", batch, P, KV, dh);
            for (int p = 0; p < P; p++)
            {
                for (int h = 0; h < H; h++) for (int j = 0; j < dh; j++) hrq[b, p, h, j] = rq[p][h][j];
                for (int g = 0; g < KV; g++) for (int j = 0; j < dh; j++) hrk[b, p, g, j] = rk[p][g][j];
            }
        }

        var scores = tr.Slot(pre + "hook_attn_scores", batch, H, P, P);
        var pattern = tr.Slot(pre + "hook_pattern", batch, H, P, P);
        var z = tr.Slot(pre + "hook_z", batch, P, H, dh);
        var result = tr.Slot(pre + "hook_result", batch, P, H, D);
        double scale = 1.0 / Math.Sqrt(dh);
        var outp = new double[P][];
        for (int p = 0; p < P; p++) outp[p] = new double[D];

        for (int h = 0; h < H; h++)
        {
            int g = h / group;
            for (int qi = 0; qi < P; qi++)
            {
                var row = new double[P];
                for (int ki = 0; ki < P; ki++)
                {
                    bool visible = ki <= qi && mask[ki] == 1;
                    if (!visible) { row[ki] = MaskedScore; continue; }
                    double s = 0;
                    for (int j = 0; j < dh; j++) s += rq[qi][h][j] * rk[ki][g][j];
                    row[ki] = s * scale;
                }
                var pr = NaiveMath.Softmax(row);
                for (int ki = 0; ki < P; ki++) { scores[b, h, qi, ki] = row[ki]; pattern[b, h, qi, ki] = pr[ki]; }

                var zq = new double[dh];
                for (int j = 0; j < dh; j++)
                {
                    double s = 0;
                    for (int ki = 0; ki < P; ki++) s += pr[ki] * v[ki][g][j];
                    zq[j] = s;
                    z[b, qi, h, j] = s;
                }
                for (int m = 0; m < D; m++)
                {
                    double s = 0;
                    for (int j = 0; j < dh; j++) s += zq[j] * wo[h, j, m];
                    result[b, qi, h, m] = s;
                    outp[qi][m] += s;
                }
            }
        }
        if (cfg.AttnBias && cfg.AttnOutBias)
        {
            var bo = w[pre + "b_O"];
            for (int p = 0; p < P; p++) for (int m = 0; m < D; m++) outp[p][m] += bo[m];
        }
        return outp;
    }

    private static double[][] Mlp(ModelConfig cfg, NaiveWeights w, int l, double[][] x, int b, int batch, NaiveTrace tr)
    {
        string pre = $"blocks.{l}.mlp.";
        int P = x.Length, D = cfg.DModel, M = cfg.DMlp;
        var win = w[pre + "W_in"]; var wout = w[pre + "W_out"];
        var hpre = tr.Slot(pre + "hook_pre", batch, P, M);
        var hpost = tr.Slot(pre + "hook_post", batch, P, M);
        NaiveTensor? hlin = cfg.GatedMlp ? tr.Slot(pre + "hook_pre_linear", batch, P, M) : null;
        var outp = new double[P][];
        for (int p = 0; p < P; p++)
        {
            var post = new double[M];
            for (int n = 0; n < M; n++)
            {
                double lin = cfg.MlpBias ? w[pre + "b_in"][n] : 0.0;
                for (int i = 0; i < D; i++) lin += x[p][i] * win[i, n];
                if (cfg.GatedMlp)
                {
                    double gate = 0;
                    for (int i = 0; i < D; i++) gate += x[p][i] * w[pre + "W_gate"][i, n];
                    // TransformerLens GatedMLP: hook_pre is the gate pre-activation, hook_pre_linear the W_in branch.
                    hpre[b, p, n] = gate;
                    hlin![b, p, n] = lin;
                    post[n] = NaiveMath.Activate(cfg.Act, gate) * lin;
                }
                else
                {
                    hpre[b, p, n] = lin;
                    post[n] = NaiveMath.Activate(cfg.Act, lin);
                }
                hpost[b, p, n] = post[n];
            }
            outp[p] = new double[D];
            for (int m = 0; m < D; m++)
            {
                double s = cfg.MlpBias ? w[pre + "b_out"][m] : 0.0;
                for (int n = 0; n < M; n++) s += post[n] * wout[n, m];
                outp[p][m] = s;
            }
        }
        return outp;
    }

    private static double[][] Add(double[][] a, double[][] c)
    {
        var r = new double[a.Length][];
        for (int p = 0; p < a.Length; p++)
        {
            r[p] = new double[a[p].Length];
            for (int i = 0; i < a[p].Length; i++) r[p][i] = a[p][i] + c[p][i];
        }
        return r;
    }

    private static void Store(NaiveTrace tr, string name, int b, int batch, double[][] x)
    {
        var t = tr.Slot(name, batch, x.Length, x[0].Length);
        for (int p = 0; p < x.Length; p++)
            for (int i = 0; i < x[p].Length; i++) t[b, p, i] = x[p][i];
    }
}
