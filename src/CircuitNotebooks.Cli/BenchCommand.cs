using System.CommandLine;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.FineTuning;
using CircuitNotebooks.Models;
using CircuitNotebooks.Cli.Reproduce;
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
        var quick = new Option<bool>("--quick") { Description = "Smoke run: fewer rounds, smaller batches (noisier numbers)." };
        var csv = new Option<string>("--csv") { Description = "Also write the table as CSV to this file.", HelpName = "file" };
        var rounds = new Option<int>("--rounds")
        {
            Description = "Interleaved timing rounds; each ratio is the median over them, with its range (default 5, --quick 3).",
            HelpName = "n",
        };
        var only = new Option<string[]>("--only")
        {
            Description = "Run only these parts: forward, attribution, training (default: all).", HelpName = "part",
            AllowMultipleArgumentsPerToken = true,
        };
        only.AcceptOnlyFromAmong("forward", "attribution", "training");
        var scale = new Option<bool>("--scale")
        {
            Description = "Instead: the cost curve over Pythia-shaped models (70m, 160m, 410m, 1.4b; random weights, f32), written as CSV " +
                          "and an offline HTML page with log-log charts and an extrapolation to Llama-3-8B. Several minutes.",
        };
        var shapes = new Option<string[]>("--shapes")
        {
            Description = "With --scale: only these shapes.", HelpName = "shape", AllowMultipleArgumentsPerToken = true,
        };
        shapes.AcceptOnlyFromAmong(ScaleShape.Pythia.Select(s => s.Name).ToArray());
        var probe = new Option<string>(MemoryProbe.Option) { Hidden = true }; // the child side of MemoryProbe.RunIsolated
        var output = new Option<string>("--output", "-o") { Description = "With --scale: the output folder (default bench-scale).", HelpName = "dir" };
        var cmd = new Command("bench", "Measure the engine's performance ratios (hooks, EAP-IG, faithfulness, memory, patching, LoRA vs full training).")
            { quick, csv, rounds, only, scale, shapes, output, probe };
        CommandAction.Set(cmd, ctx, verbose, (p, ct) =>
        {
            if (p.GetValue(probe) is { } spec) return MemoryProbe.RunChild(spec, Console.Out);
            bool q = p.GetValue(quick);
            int n = p.GetValue(rounds) is > 0 and var r ? r : q ? 3 : 5;
            if (p.GetValue(scale))
                return Scale(ctx, p.GetValue(shapes), q, n, p.GetValue(output) ?? "bench-scale", ct);
            var parts = p.GetValue(only) is { Length: > 0 } o ? o.ToHashSet() : ["forward", "attribution", "training"];
            var table = new CsvTable("bench.csv", ["measure", "value", "target"]);
            SpectreReporter.Run(ctx.Out, null, rep =>
            {
                if (parts.Contains("forward"))
                using (rep.Phase("forward: hooks, cache, GFLOP/s", 1))
                {
                    var f = ForwardBenchmark.Run(repeats: q ? 3 : 2 * n);
                    table.Add($"forward, idle hooks / plain TorchSharp ({f.Model}, {f.Batch}×{f.Positions})", f.HookOverhead.Format("F3"), "≤ 1.05");
                    table.Add("forward with full activation cache / plain", f.CacheOverhead.Format("F3"), "report");
                    table.Add("forward GFLOP/s (hooked)", Fmt(f.ForwardGflops, "F1"), "report");
                    table.Add("raw libtorch matmul GFLOP/s", Fmt(f.MatmulGflops, "F1"), "report");
                }
                ct.ThrowIfCancellationRequested();
                if (parts.Contains("attribution"))
                using (rep.Phase("attribution: EAP-IG, faithfulness, memory, head patching", 1))
                {
                    var (a, what) = Attribution(q, n);
                    const double MiB = 1048576.0;
                    table.Add($"EAP-IG(m=5) / (7 fwd + 5 bwd) ({what})", a.EapIgRatio.Format(), "≤ 1.3");
                    table.Add("faithfulness evaluation / one forward", a.FaithfulnessRatio.Format(), "≤ 1.5");
                    table.Add($"EAP-IG(m=5) peak memory / (2 × Δ buffer {a.DeltaBytes / MiB:F1} MiB + plain fwd+bwd peak " +
                              $"{a.ForwardBackwardPeakBytes.Median / MiB:F1} MiB)",
                        double.IsNaN(a.MemoryRatio.Median) ? "n/a (no /proc or not glibc)" : $"{a.MemoryRatio.Format()} ({a.ScoringPeakBytes.Median / MiB:F1} MiB)",
                        "≤ 1");
                    table.Add("EAP-IG(m=5) peak memory − plain fwd+bwd peak, in Δ buffers",
                        double.IsNaN(a.MemoryRatio.Median) ? "n/a" : Fmt((a.ScoringPeakBytes.Median - a.ForwardBackwardPeakBytes.Median) / a.DeltaBytes, "F2"),
                        "≤ 2");
                    table.Add("activation patching, all heads: naive loop / batched", a.HeadPatchingSpeedup.Format("F1") + "×", "report (> 1)");
                }
                ct.ThrowIfCancellationRequested();
                if (parts.Contains("training"))
                using (rep.Phase("training: full vs LoRA vs CircuitLoRA", 1))
                {
                    var t = TrainingBenchmarks.Run(new TrainingBenchmarkOptions
                    {
                        BatchSize = q ? 4 : 8, SequenceLength = q ? 32 : 64, StepsPerRound = q ? 1 : 2, Rounds = n,
                    }, null, ct);
                    foreach (var e in new[] { t.Full, t.Lora, t.CircuitLora })
                        table.Add($"training tokens/s, {e.Name} ({e.TrainableRatio:P2} trainable; {t.Model})", Fmt(e.TokensPerSecond, "F0"), "report");
                    table.Add($"LoRA step / full step (d_model {TrainingBenchmarkOptions.DefaultModel.DModel})", t.LoraToFullPerRound.Format("F3"), "≤ 0.8");
                    table.Add("CircuitLoRA step / full step", t.CircuitLoraToFullPerRound.Format("F3"), "report");
                }
                return 0;
            });
            var view = new Table().Title(Markup.Escape($"circuitnb bench{(q ? " --quick" : "")}: median [range] over {n} interleaved rounds ({Machine()})"))
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

    private static string Machine()
    {
        var malloc = NativeAllocator.Retaining ? "malloc retains freed memory" : "default malloc";
        return $"{get_num_threads()} torch threads, {Environment.ProcessorCount} cores, " +
               $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {malloc}";
    }

    /// <summary>`bench --scale`: the cost curve, its CSV and HTML page, and a summary table.</summary>
    private static int Scale(CliContext ctx, string[]? names, bool quick, int rounds, string outputDir, CancellationToken ct)
    {
        var shapes = names is { Length: > 0 } ? ScaleShape.Pythia.Where(s => names.Contains(s.Name)).ToList() : ScaleShape.Pythia.ToList();
        if (shapes.Count < 2)
            throw new ArgumentException("--scale needs at least two shapes to fit a cost curve (choose two or more with --shapes).");
        var options = new ScaleOptions { Shapes = shapes, Rounds = quick ? 1 : Math.Min(rounds, 3), Positions = quick ? 8 : 16 };
        IReadOnlyList<ScaleRow> rows = [];
        SpectreReporter.Run(ctx.Out, null, rep =>
        {
            using (rep.Phase($"scale: {string.Join(", ", shapes.Select(s => s.Name))}", 1))
                rows = ScaleBenchmark.Run(options, new SyncProgress<string>(m => ctx.Out.MarkupLine(Markup.Escape("  " + m))), ct);
            return 0;
        });
        var x = ScaleReport.Extrapolate(rows);
        var dir = new OutputDirectory(Path.GetFullPath(outputDir));
        var csvPath = dir.WriteText("bench-scale.csv", ScaleReport.ToTable(rows, x).ToCsv());
        var htmlPath = ScaleReport.ToHtml(rows, x, Machine()).Save(dir.PathOf("bench-scale.html"));
        var view = new Table().Title(Markup.Escape($"circuitnb bench --scale ({Machine()})"))
            .AddColumns("shape", "edges", "fwd ms", "EAP-IG s/example", "EAP-IG / (7F+5B)", "faithfulness / fwd", "peak / (2Δ + fwd+bwd)");
        foreach (var r in rows)
            view.AddRow(r.Shape, r.Edges.ToString("N0"), Fmt(r.ForwardSeconds.Median * 1e3, "F0"), Fmt(r.EapIgSecondsPerExample, "F2"),
                Markup.Escape(r.EapIgRatio.Format()), Markup.Escape(r.FaithfulnessRatio.Format()), Fmt(r.MemoryRatio, "F2"));
        view.AddRow("llama-3-8b (EXTRAPOLATED)", x.Edges.ToString("N0"), "", $"{Fmt(x.CpuSecondsPerExample, "F0")} here, " +
            $"{Fmt(x.GpuSecondsPerExample * 1000, "F0")} ms GPU*", "", "", $"{x.TokensPerPassIn80GB:N0} tok/pass in 80 GB*");
        ctx.Out.Write(view);
        ctx.Out.MarkupLine(Markup.Escape($"* extrapolated with the cost model fitted to the measured shapes (forward FLOPs + edges × d_model terms); GPU at an assumed " +
            $"{ScaleExtrapolation.AssumedGpuGflops / 1000:F0} TFLOP/s bf16. Written {csvPath} and {htmlPath}."));
        return 0;
    }

    private static string Fmt(double v, string format) => v.ToString(format, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The attribution ratios on the forward benchmark's d512 GPT-2-like model and a random paired batch.</summary>
    private static (AttributionBenchmarkResult, string) Attribution(bool quick, int rounds)
    {
        var cfg = ForwardBenchmark.DefaultConfig;
        int b = quick ? 4 : 8, pos = quick ? 16 : 32;
        using var model = HookedTransformer.Create(cfg, seed: 0);
        var batch = ScaleBenchmark.RandomBatch(cfg, b, pos, seed: 3);
        var probe = new MemoryProbeSpec(cfg, [b], pos, Steps: 5, Rounds: quick ? 1 : 3);
        return (AttributionBenchmarks.Run(model, batch, m: 5, rounds: rounds, memory: () => MemoryProbe.RunIsolated(probe)),
            $"L{cfg.NLayers} d{cfg.DModel}, {b}×{pos} tokens");
    }
}
