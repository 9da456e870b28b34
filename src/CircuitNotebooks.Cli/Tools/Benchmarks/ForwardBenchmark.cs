using CircuitNotebooks.Models;
using System.Diagnostics;
using CircuitNotebooks.Hooks;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Tools;

/// <summary>Ratios measured in one run on the same inputs (the performance targets of the engine), per-round medians with ranges.</summary>
public sealed record ForwardBenchmarkResult(
    string Model, int Batch, int Positions, double HookedMs, double PlainMs, double CacheMs,
    double ForwardGflops, double MatmulGflops, Spread HookOverhead, Spread CacheOverhead);

/// <summary>
/// Forward with idle hook points vs the same computation as bare TorchSharp calls, a full activation cache, and
/// achieved GFLOP/s next to a raw libtorch matmul. Uses a GPT-2-style model with d_model 512 by default.
/// </summary>
public static class ForwardBenchmark
{
    public static ModelConfig DefaultConfig => new()
    {
        Architecture = Architecture.Gpt2, NLayers = 4, DModel = 512, NHeads = 8, DMlp = 2048, DVocab = 2048, NCtx = 256,
    };

    public static ForwardBenchmarkResult Run(ModelConfig? config = null, int batch = 8, int positions = 64, int repeats = 10)
    {
        var cfg = config ?? DefaultConfig;
        using var model = HookedTransformer.Create(cfg, seed: 0);
        using var _ = no_grad();
        using var tokens = randint(0, cfg.DVocab, [batch, positions], dtype: ScalarType.Int64, generator: new Generator(1));

        using var a = randn(batch * positions, cfg.DModel);
        using var w = randn(cfg.DModel, cfg.DMlp);
        // Each run is a few calls, so one round's time is not a single short forward's jitter.
        const int Calls = 3;
        var t = Spread.Time([
            Spread.Repeated(() => { using var s = NewDisposeScope(); model.Forward(tokens); }, Calls),
            Spread.Repeated(() => { using var s = NewDisposeScope(); PlainForward(model, tokens); }, Calls),
            Spread.Repeated(() => { using var s = NewDisposeScope(); var (_, c) = model.RunWithCache(tokens); c.Dispose(); }, Calls),
            Spread.Repeated(() => { using var s = NewDisposeScope(); a.matmul(w); }, Calls),
        ], repeats);
        double Ms(double[] seconds) => Spread.Of(seconds).Median / Calls * 1e3;
        double hooked = Ms(t[0]), plain = Ms(t[1]), cache = Ms(t[2]), mm = Ms(t[3]);

        double perToken = 0;
        int d = cfg.DModel;
        perToken += cfg.NLayers * (2.0 * 4 * d * d + 2.0 * 2 * d * cfg.DMlp + 2.0 * 2 * positions * d);
        perToken += 2.0 * d * cfg.DVocab;
        double flops = perToken * batch * positions;

        double mmFlops = 2.0 * batch * positions * d * cfg.DMlp;

        return new ForwardBenchmarkResult($"gpt2-like L{cfg.NLayers} d{d}", batch, positions, hooked, plain, cache,
            flops / (hooked * 1e6), mmFlops / (mm * 1e6), Spread.Ratio(t[0], t[1]), Spread.Ratio(t[2], t[1]));
    }

    /// <summary>The same GPT-2 forward as bare TorchSharp calls on the model's own parameters, with no hook points.</summary>
    public static Tensor PlainForward(HookedTransformer model, Tensor tokens)
    {
        var cfg = model.Config;
        if (cfg.Architecture != Architecture.Gpt2) throw new NotSupportedException("The plain baseline is written for GPT-2 models.");
        long b = tokens.shape[0], p = tokens.shape[1];
        int h = cfg.NHeads, dh = cfg.DHead, d = cfg.DModel;
        var pos = arange(p, dtype: ScalarType.Int64);
        var x = model.embed_W_E.index_select(0, tokens.reshape(-1)).reshape(b, p, d) + model.pos_embed_W_pos!.index_select(0, pos);
        var masked = ones(p, p, dtype: ScalarType.Bool).triu(1);
        Tensor Ln(Tensor t, Norm n) => nn.functional.layer_norm(t, [d], n.w, n.b, cfg.NormEps);
        foreach (var blk in model.Blocks)
        {
            // Each layer's intermediates freed when it ends, as the hooked forward does.
            using var layer = NewDisposeScope();
            var a = blk.attn;
            var n1 = Ln(x, blk.ln1);
            var q = (n1.matmul(a.W_Q.permute(1, 0, 2).reshape(d, h * dh)) + a.b_Q!.reshape(-1)).reshape(b, p, h, dh).permute(0, 2, 1, 3);
            var k = (n1.matmul(a.W_K.permute(1, 0, 2).reshape(d, h * dh)) + a.b_K!.reshape(-1)).reshape(b, p, h, dh).permute(0, 2, 3, 1);
            var v = (n1.matmul(a.W_V.permute(1, 0, 2).reshape(d, h * dh)) + a.b_V!.reshape(-1)).reshape(b, p, h, dh).permute(0, 2, 1, 3);
            var pattern = (q.matmul(k) / Math.Sqrt(dh)).masked_fill(masked, float.MinValue).softmax(-1);
            var z = pattern.matmul(v).permute(0, 2, 1, 3).reshape(b, p, h * dh);
            x = x + z.matmul(a.W_O.reshape(h * dh, d)) + a.b_O!;
            var m = blk.mlp;
            var pre = Ln(x, blk.ln2).matmul(m.W_in) + m.b_in!;
            x = (x + Mlp.Activate(pre, cfg.Act).matmul(m.W_out) + m.b_out!).MoveToOuterDisposeScope();
        }
        return Ln(x, model.ln_final).matmul(model.unembed_W_U) + model.unembed_b_U;
    }
}
