using System.CommandLine;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.FineTuning;
using CircuitNotebooks.Models;
using CircuitNotebooks.Cli.Tools;
using CircuitNotebooks.Native;
using CircuitNotebooks.Patching;
using Spectre.Console;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli;

/// <summary>`bench`: the engine's performance ratios, measured in one run on this machine and printed as one table.</summary>
internal static class BenchCommand
{
    public static Command Create(CliContext ctx, Option<bool> verbose)
    {
        var quick = new Option<bool>("--quick") { Description = "Smoke run: fewer repeats, smaller batches (noisier numbers)." };
        var csv = new Option<string>("--csv") { Description = "Also write the table as CSV to this file.", HelpName = "file" };
        var only = new Option<string[]>("--only")
        {
            Description = "Run only these parts: forward, attribution, training (default: all).", HelpName = "part",
            AllowMultipleArgumentsPerToken = true,
        };
        only.AcceptOnlyFromAmong("forward", "attribution", "training");
        var cmd = new Command("bench", "Measure the engine's performance ratios (hooks, EAP-IG, faithfulness, patching, LoRA vs full training).") { quick, csv, only };
        CommandAction.Set(cmd, ctx, verbose, (p, ct) =>
        {
            bool q = p.GetValue(quick);
            var parts = p.GetValue(only) is { Length: > 0 } o ? o.ToHashSet() : ["forward", "attribution", "training"];
            var table = new CsvTable("bench.csv", ["measure", "value", "target"]);
            SpectreReporter.Run(ctx.Out, null, r =>
            {
                if (parts.Contains("forward"))
                using (r.Phase("forward: hooks, cache, GFLOP/s", 1))
                {
                    var f = ForwardBenchmark.Run(repeats: q ? 3 : 10);
                    table.Add($"forward, idle hooks / plain TorchSharp ({f.Model}, {f.Batch}×{f.Positions})", Fmt(f.HookOverhead, "F3"), "≤ 1.05");
                    table.Add("forward with full activation cache / plain", Fmt(f.CacheOverhead, "F3"), "report");
                    table.Add("forward GFLOP/s (hooked)", Fmt(f.ForwardGflops, "F1"), "report");
                    table.Add("raw libtorch matmul GFLOP/s", Fmt(f.MatmulGflops, "F1"), "report");
                }
                ct.ThrowIfCancellationRequested();
                if (parts.Contains("attribution"))
                using (r.Phase("attribution: EAP-IG, faithfulness, memory, head patching", 1))
                {
                    var (a, what) = Attribution(q);
                    table.Add($"EAP-IG(m=5) / (7 fwd + 5 bwd) ({what})", Fmt(a.EapIgRatio, "F2"), "≤ 1.3");
                    table.Add("faithfulness evaluation / one forward", Fmt(a.FaithfulnessRatio, "F2"), "≤ 1.5");
                    table.Add($"edge scoring peak memory / activation-difference size ({a.ReferenceBytes / 1048576.0:F1} MiB)",
                        a.ScoringPeakBytes < 0 ? "n/a (no /proc)" : $"{a.MemoryRatio:F2} ({a.ScoringPeakBytes / 1048576.0:F1} MiB)", "report");
                    table.Add("plain forward + backward peak memory (same batch, for scale)",
                        a.ForwardBackwardPeakBytes < 0 ? "n/a (no /proc)" : $"{a.ForwardBackwardPeakBytes / 1048576.0:F1} MiB", "report");
                    table.Add("activation patching, all heads: naive loop / batched", Fmt(a.HeadPatchingSpeedup, "F1") + "×", "report (> 1)");
                }
                ct.ThrowIfCancellationRequested();
                if (parts.Contains("training"))
                using (r.Phase("training: full vs LoRA vs CircuitLoRA", 1))
                {
                    var t = TrainingBenchmarks.Run(new TrainingBenchmarkOptions
                    {
                        BatchSize = q ? 4 : 8, SequenceLength = q ? 32 : 64, StepsPerRound = q ? 1 : 2, Rounds = q ? 1 : 3,
                    }, null, ct);
                    foreach (var e in new[] { t.Full, t.Lora, t.CircuitLora })
                        table.Add($"training tokens/s, {e.Name} ({e.TrainableRatio:P2} trainable; {t.Model})", Fmt(e.TokensPerSecond, "F0"), "report");
                    table.Add($"LoRA step / full step (d_model {TrainingBenchmarkOptions.DefaultModel.DModel})", Fmt(t.LoraToFullStepRatio, "F3"), "≤ 0.8");
                    table.Add("CircuitLoRA step / full step", Fmt(t.CircuitLoraToFullStepRatio, "F3"), "report");
                }
                return 0;
            });
            var malloc = NativeAllocator.Retaining ? "malloc retains freed memory" : "default malloc";
            var view = new Table().Title($"circuitnb bench{(q ? " --quick" : "")} ({get_num_threads()} torch threads, {Environment.ProcessorCount} cores, {malloc})")
                .AddColumns("measure", "value", "target");
            foreach (var row in table.Rows) view.AddRow(row.Select(c => Markup.Escape(CsvTable.Format(c))).ToArray());
            ctx.Out.Write(view);
            if (p.GetValue(csv) is { } file)
            {
                var full = Path.GetFullPath(file);
                new OutputDirectory(Path.GetDirectoryName(full)!).WriteText(Path.GetFileName(full), table.ToCsv());
            }
            return 0;
        });
        return cmd;
    }

    private static string Fmt(double v, string format) => v.ToString(format, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The attribution ratios on the forward benchmark's d512 GPT-2-like model and a random paired batch.</summary>
    private static (AttributionBenchmarkResult, string) Attribution(bool quick)
    {
        var cfg = ForwardBenchmark.DefaultConfig;
        int b = quick ? 4 : 8, pos = quick ? 16 : 32;
        using var model = HookedTransformer.Create(cfg, seed: 0);
        var g = new Generator(3);
        using var clean = randint(0, cfg.DVocab, [b, pos], dtype: ScalarType.Int64, generator: g);
        using var corrupt = clean.clone();
        using (no_grad()) corrupt[TensorIndex.Colon, pos - 2] = randint(0, cfg.DVocab, [b], dtype: ScalarType.Int64, generator: g);
        var rng = new Random(5);
        var correct = Enumerable.Range(0, b).Select(_ => (long)rng.Next(cfg.DVocab)).ToArray();
        var wrong = Enumerable.Range(0, b).Select(_ => (long)rng.Next(cfg.DVocab)).ToArray();
        var batch = new AttributionBatch(clean, corrupt, null, Metric.LogitDiff(correct, wrong));
        return (AttributionBenchmarks.Run(model, batch, m: 5, repeats: quick ? 1 : 3), $"L{cfg.NLayers} d{cfg.DModel}, {b}×{pos} tokens");
    }
}
