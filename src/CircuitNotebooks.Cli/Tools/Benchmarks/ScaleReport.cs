using CircuitNotebooks.Circuits;
using CircuitNotebooks.Interactive;
using CircuitNotebooks.Interactive.Charts;
using CircuitNotebooks.Interactive.Html;
using CircuitNotebooks.Models;

namespace CircuitNotebooks.Cli.Tools;

/// <summary>
/// Seconds per example of EAP-IG = A · (forward FLOPs per example) + B · (edges × d_model × positions): the plain
/// forwards and backwards grow with the parameters, the edge contraction with edges × d_model per token. Fitted by
/// least squares on the measured shapes (relative errors, so small and large shapes weigh alike).
/// </summary>
public sealed record CostModel(double A, double B)
{
    public static double ForwardTerm(ModelConfig c, int positions) => ScaleShape.ForwardFlopsPerToken(c, positions) * positions;
    public static double ContractionTerm(long edges, ModelConfig c, int positions) => (double)edges * c.DModel * positions;

    public double At(double forward, double contraction) => A * forward + B * contraction;

    public static CostModel Fit(IReadOnlyList<(double Forward, double Contraction, double Seconds)> points)
    {
        if (points.Count < 2) throw new ArgumentException("The cost model needs at least two measured shapes.");
        // Minimise Σ ((A f + B c) / t − 1)²: normal equations of the rows (f/t, c/t) against 1.
        double ff = 0, fc = 0, cc = 0, f1 = 0, c1 = 0;
        foreach (var (f, c, t) in points)
        {
            double x = f / t, y = c / t;
            ff += x * x; fc += x * y; cc += y * y; f1 += x; c1 += y;
        }
        double det = ff * cc - fc * fc;
        double a = det == 0 ? 0 : (f1 * cc - c1 * fc) / det, b = det == 0 ? 0 : (c1 * ff - f1 * fc) / det;
        if (a >= 0 && b >= 0) return new CostModel(a, b);
        // A negative term has no physical meaning: keep the forward term alone.
        return new CostModel(f1 / ff, 0);
    }
}

/// <summary>What the measured scaling says about Llama-3-8B, on this machine and on a GPU. Every number here is an extrapolation.</summary>
public sealed record ScaleExtrapolation(
    long Edges, int NFwd, int NBwd, long Parameters, CostModel Cost, double CpuSecondsPerExample, double CpuGflops,
    double GpuSecondsPerExample, double DeltaBytesPerToken, double ForwardBackwardBytesPerToken, double WeightBytes, long TokensPerPassIn80GB)
{
    /// <summary>Assumed sustained GPU throughput for the GPU column: an H100/H200-class card in bf16 at about 40 % of its
    /// dense peak (990 TFLOP/s). The scaling from this machine assumes EAP-IG stays compute-bound on both.</summary>
    public const double AssumedGpuGflops = 400_000;
    public const int BytesPerElement = 2; // bf16, how an 8B model is run
}

/// <summary>The scale curve as CSV and as an offline HTML page with log-log charts and the extrapolation.</summary>
public static class ScaleReport
{
    public static ScaleExtrapolation Extrapolate(IReadOnlyList<ScaleRow> rows)
    {
        var cfg = ScaleShape.Llama3_8B;
        var g = CircuitGraph.FromConfig(cfg);
        int positions = rows[0].Positions;
        var cost = CostModel.Fit(rows.Select(r => (CostModel.ForwardTerm(r.Config, r.Positions), CostModel.ContractionTerm(r.Edges, r.Config, r.Positions),
            r.EapIgSecondsPerExample)).ToList());
        double cpu = cost.At(CostModel.ForwardTerm(cfg, positions), CostModel.ContractionTerm(g.EdgeCount, cfg, positions));
        double cpuGflops = rows[^1].ForwardGflops;
        // Plain forward + backward bytes per token against a proxy of the activations a layer saves per token.
        double Proxy(ModelConfig c) => c.NLayers * (4.0 * c.DModel + (c.GatedMlp ? 3 : 2) * c.DMlp);
        var perToken = rows.Select(r =>
        {
            var (t, _, f) = r.Memory[^1];
            return f / t / Proxy(r.Config);
        }).Order().ToArray();
        double k = perToken[perToken.Length / 2] * ScaleExtrapolation.BytesPerElement / 4.0; // measured in f32
        double fb = k * Proxy(cfg);
        double delta = (double)g.ForwardCount * cfg.DModel * ScaleExtrapolation.BytesPerElement;
        long parameters = LlamaParameters(cfg);
        double weights = (double)parameters * ScaleExtrapolation.BytesPerElement;
        long fit = (long)Math.Max(0, (80e9 - weights) / (2 * delta + fb));
        return new ScaleExtrapolation(g.EdgeCount, g.ForwardCount, g.BackwardCount, parameters, cost, cpu, cpuGflops,
            cpu * cpuGflops / ScaleExtrapolation.AssumedGpuGflops, delta, fb, weights, fit);
    }

    private static long LlamaParameters(ModelConfig c)
    {
        long d = c.DModel, q = c.NHeads * c.DHead, kv = c.KvHeads * c.DHead;
        long layer = d * q + 2 * d * kv + q * d + 3 * d * c.DMlp + 2 * d;
        return c.NLayers * layer + 2 * d * c.DVocab + d;
    }

    public static Table ToTable(IReadOnlyList<ScaleRow> rows, ScaleExtrapolation x)
    {
        var t = new Table([
            "kind", "shape", "parameters", "layers", "d_model", "n_fwd", "n_bwd", "edges", "tokens", "forward_gflop_per_token", "unembed_flop_share",
            "forward_ms", "forward_gflops", "fwd_bwd_ms", "eapig_s_per_example", "eapig_ratio", "eapig_ratio_min", "eapig_ratio_max",
            "faithfulness_ratio", "faithfulness_ratio_min", "faithfulness_ratio_max", "delta_bytes_per_token",
            "tokens_small", "scoring_peak_mib_small", "fwd_bwd_peak_mib_small", "tokens_large", "scoring_peak_mib_large",
            "fwd_bwd_peak_mib_large", "bound_mib_large", "memory_ratio",
        ]);
        const double MiB = 1048576.0;
        foreach (var r in rows)
        {
            var (t0, s0, f0) = r.Memory[0];
            var (t1, s1, f1) = r.Memory[^1];
            t.Add("measured", r.Shape, r.Parameters, r.Layers, r.DModel, r.NFwd, r.NBwd, r.Edges, r.Tokens, r.ForwardFlopsPerToken / 1e9, r.UnembedShare,
                r.ForwardSeconds.Median * 1e3, r.ForwardGflops, r.ForwardBackwardSeconds.Median * 1e3, r.EapIgSecondsPerExample,
                r.EapIgRatio.Median, r.EapIgRatio.Min, r.EapIgRatio.Max, r.FaithfulnessRatio.Median, r.FaithfulnessRatio.Min,
                r.FaithfulnessRatio.Max, r.DeltaBytesPerToken, t0, s0 / MiB, f0 / MiB, t1, s1 / MiB, f1 / MiB,
                (2.0 * r.DeltaBytesPerToken * t1 + f1) / MiB, r.MemoryRatio);
        }
        var cfg = ScaleShape.Llama3_8B;
        t.Add("extrapolated (bf16; CPU = this machine)", "llama-3-8b", x.Parameters, cfg.NLayers, cfg.DModel, x.NFwd, x.NBwd, x.Edges, null,
            ScaleShape.ForwardFlopsPerToken(cfg, rows[0].Positions) / 1e9, null, null, null, null, x.CpuSecondsPerExample, null, null, null, null, null, null,
            x.DeltaBytesPerToken, null, null, null, null, null, null, null, null);
        t.Add($"extrapolated (bf16; GPU at {ScaleExtrapolation.AssumedGpuGflops / 1000:F0} TFLOP/s)", "llama-3-8b", x.Parameters, cfg.NLayers,
            cfg.DModel, x.NFwd, x.NBwd, x.Edges, null, ScaleShape.ForwardFlopsPerToken(cfg, rows[0].Positions) / 1e9, null, null,
            ScaleExtrapolation.AssumedGpuGflops, null, x.GpuSecondsPerExample, null, null, null, null, null, null, x.DeltaBytesPerToken,
            null, null, null, null, null, null, null, null);
        return t;
    }

    public static HtmlReport ToHtml(IReadOnlyList<ScaleRow> rows, ScaleExtrapolation x, string machine)
    {
        var report = new HtmlReport("circuitnb bench --scale: cost and memory of circuit discovery against model size");
        report.Paragraph($"Measured on this machine ({machine}): random-initialised GPT-NeoX models with Pythia's shapes, f32, a batch of " +
            $"{rows[0].Rows}×{rows[0].Positions} random tokens (corrupted rows differ in one token), EAP-IG over inputs with m = 5. " +
            "Times are medians of interleaved rounds (ranges in the CSV). Memory is the peak resident growth of one scoring call and of " +
            "one plain forward + backward (to the embedded input), each in a fresh process with glibc returning freed memory at once, " +
            "at two batch sizes. A plain forward unembeds every position (unembed_flop_share of its FLOPs); EAP-IG and faithfulness " +
            "unembed only the answer position, so their ratios to plain forwards drop at large vocabularies.");
        report.Table(ToTable(rows, x));

        var edges = rows.Select(r => (double)r.Edges).ToList();
        report.Chart(LineCurves.LogLog([
            new XySeries("measured: EAP-IG(m=5) s / example", edges, rows.Select(r => r.EapIgSecondsPerExample).ToList()),
            new XySeries("cost model fitted to the measured shapes", edges,
                rows.Select(r => x.Cost.At(CostModel.ForwardTerm(r.Config, r.Positions), CostModel.ContractionTerm(r.Edges, r.Config, r.Positions))).ToList(),
                Dashed: true),
            new XySeries("Llama-3-8B on this machine (EXTRAPOLATION)", [rows[^1].Edges, x.Edges], [rows[^1].EapIgSecondsPerExample, x.CpuSecondsPerExample],
                Dashed: true),
            new XySeries("plain forward s / example (measured)", edges, rows.Select(r => r.ForwardSeconds.Median / r.Rows).ToList()),
        ], "Cost against the number of edges (this machine)", "edges (real)", "seconds per example"));

        var memory = new List<XySeries>();
        foreach (var r in rows)
        {
            var tokens = r.Memory.Select(m => (double)m.Tokens).ToList();
            memory.Add(new XySeries($"{r.Shape}: scoring peak", tokens, r.Memory.Select(m => m.ScoringPeak / 1048576.0).ToList()));
            memory.Add(new XySeries($"{r.Shape}: bound 2Δ + fwd+bwd", tokens,
                r.Memory.Select(m => (2.0 * r.DeltaBytesPerToken * m.Tokens + m.ForwardBackwardPeak) / 1048576.0).ToList(), Dashed: true));
        }
        report.Chart(LineCurves.LogLog(memory, "Peak memory of edge scoring against tokens per pass", "tokens per pass", "MiB above the model"));

        report.Section("Extrapolation to Llama-3-8B (not measured)");
        report.Paragraph(string.Join(" ", [
            $"EXTRAPOLATION. Llama-3-8B's graph has n_fwd = {x.NFwd}, n_bwd = {x.NBwd} and {x.Edges:N0} edges ({x.Parameters / 1e9:F2} B parameters).",
            $"The cost model fitted to the measured shapes (seconds per example = {x.Cost.A:G3} × forward FLOPs + {x.Cost.B:G3} × edges·d_model·tokens)",
            $"gives {x.CpuSecondsPerExample:F0} s per example of EAP-IG(m=5) at {rows[0].Positions} tokens on this machine.",
            $"Scaled by this machine's measured forward throughput ({x.CpuGflops:F0} GFLOP/s) to an assumed {ScaleExtrapolation.AssumedGpuGflops / 1000:F0} TFLOP/s on an",
            $"H100/H200-class GPU in bf16, that is about {x.GpuSecondsPerExample * 1000:F0} ms per example, if the work stays compute-bound.",
            $"Memory in bf16: weights {x.WeightBytes / 1e9:F1} GB; the corrupt − clean buffer is {x.DeltaBytesPerToken / 1e6:F2} MB per token (exact, n_fwd × d_model × 2 bytes);",
            $"a plain forward + backward is about {x.ForwardBackwardBytesPerToken / 1e6:F2} MB per token (fitted from the measured shapes).",
            $"With the bound 2Δ + forward/backward per token, about {x.TokensPerPassIn80GB:N0} tokens per pass fit beside the weights in 80 GB;",
            "EdgeAttribution's MaxTokensPerPass splits larger batches into passes of that size with identical scores.",
        ]));
        return report;
    }
}
