using System.CommandLine;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Cli.Options;
using CircuitNotebooks.Cli.Reproduce;
using Spectre.Console;

namespace CircuitNotebooks.Cli;

/// <summary>`reproduce`: the main job on the embedded default model (or any model given with --model).</summary>
internal static class ReproduceCommand
{
    public static Command Create(CliContext ctx, Option<bool> verbose)
    {
        var d = new ReproduceSettings();
        var preset = new Option<string>("--preset") { Description = "Start from named settings: default (the tiny model on a CPU) or paper (Wang et al.'s settings for Pythia-1.4B on a GPU; give --model).", HelpName = "name" };
        var config = new Option<string>("--config") { Description = "JSON file with any of these settings (camelCase names); options given here override it.", HelpName = "file" };
        var model = CommonOptions.Model();
        var seeds = new Option<int?>("--seeds") { Description = $"Fine-tuning runs per method (seeds --seed, --seed + 1, …); intervals need 2 or more. Default: {d.Seeds}.", HelpName = "n" };
        var metric = new Option<string>("--metric") { Description = "Attribution and faithfulness metric at the answer position: kl (the paper's) or logit_diff. Default: kl.", HelpName = "kl|logit_diff" };
        var device = CommonOptions.Device();
        var dtype = CommonOptions.DType();
        var task = CommonOptions.Task();
        var steps = new Option<int?>("--steps") { Description = $"Fine-tuning steps per method. Default: {d.Steps}.", HelpName = "n" };
        var every = new Option<int?>("--checkpoint-every") { Description = $"Checkpoint and circuit every N steps (and at the last). Default: {d.CheckpointEvery}.", HelpName = "n" };
        var methods = new Option<string>("--methods") { Description = "Comma list of full, lora, circuitlora. Default: all three.", HelpName = "list" };
        var edges = CommonOptions.Edges();
        var ig = CommonOptions.IgSteps();
        var seed = CommonOptions.Seed();
        var outDir = CommonOptions.Out(d.Out);
        var examples = new Option<int?>("--examples") { Description = $"Task examples generated (90 % train). Default: {d.Examples}.", HelpName = "n" };
        var cmd = new Command("reproduce",
            "Fine-tune (full, LoRA, CircuitLoRA), discover EAP-IG circuits at every checkpoint, and write report.html, CSVs and circuits. " +
            "Re-running with the same --out resumes.")
            { preset, config, model, device, dtype, task, steps, every, methods, edges, ig, seed, seeds, metric, outDir, examples };
        CommandAction.Set(cmd, ctx, verbose, (p, ct) =>
        {
            var s = p.GetValue(config) is { } file ? ReproduceSettings.FromJsonFile(file, p.GetValue(preset)) : ReproducePresets.Get(p.GetValue(preset) ?? "default");
            s = s with
            {
                Model = p.GetValue(model) ?? s.Model,
                Device = p.GetValue(device) ?? s.Device,
                DType = p.GetValue(dtype) ?? s.DType,
                Task = p.GetValue(task) ?? s.Task,
                Steps = p.GetValue(steps) ?? s.Steps,
                CheckpointEvery = p.GetValue(every) ?? s.CheckpointEvery,
                Methods = p.GetValue(methods) is { } m ? m.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : s.Methods,
                Edges = p.GetValue(edges) is { } e ? EdgeBudget.Parse(e) : s.Edges,
                IgSteps = p.GetValue(ig) ?? s.IgSteps,
                Seed = p.GetValue(seed) ?? s.Seed,
                Seeds = p.GetValue(seeds) ?? s.Seeds,
                Metric = p.GetValue(metric) ?? s.Metric,
                Out = p.GetValue(outDir) ?? s.Out,
                Examples = p.GetValue(examples) ?? s.Examples,
            };
            s.Validate();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            OutputDirectory? log = null;
            void Journal(string line)
            {
                log ??= System.IO.Directory.Exists(s.Out) ? new OutputDirectory(s.Out) : null;
                log?.AppendLine("run.log", $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {line}");
            }
            ReproduceResult result;
            try
            {
                result = SpectreReporter.Run(ctx.Out, Journal, r => new ReproducePipeline(s, r).Run(ct));
            }
            catch (Exception ex) when (ex is not CliException { ExitCode: ExitCodes.Usage })
            {
                Journal($"stopped: {CliErrors.Classify(ex).Message}");
                throw;
            }
            Journal($"done in {clock.Elapsed.TotalSeconds:F1} s");
            ctx.Out.Write(SummaryTable(result));
            ctx.Out.MarkupLineInterpolated($"report: {result.ReportPath}  ({clock.Elapsed.TotalMinutes:F1} min)");
            return 0;
        });
        return cmd;
    }

    private static Table SummaryTable(ReproduceResult r)
    {
        var table = new Table().Title($"findings over {r.Settings.Seeds} seed(s) (findings.json)")
            .AddColumns("finding", "ours", "95 % CI", "paper", "holds");
        foreach (var (key, f) in ReproduceFindings.Compute(r))
            table.AddRow(key, $"{f.Ours:G3}", Markup.Escape(f.Ci95 is { } ci ? $"[{ci[0]:G3}, {ci[1]:G3}]" : "-"), $"{f.Paper:G3}", f.Holds ? "yes" : "no");
        var acc = ReproduceReport.Tables(r).Single(t => t.FileName == "accuracy_by_method.csv");
        table.Caption(Markup.Escape("accuracy after fine-tuning: " + string.Join(", ", acc.Rows.Select(x => $"{x[0]} {(double)x[3]!:P1}")) +
                      (r.Composition is { } c ? $"; composite task: union faithfulness {c.UnionFaithfulness:F3} vs composite {c.CompositeFaithfulness:F3}" : "")));
        return table;
    }
}
