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
        var config = new Option<string>("--config") { Description = "JSON file with any of these settings (camelCase names); options given here override it.", HelpName = "file" };
        var model = CommonOptions.Model();
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
            { config, model, device, dtype, task, steps, every, methods, edges, ig, seed, outDir, examples };
        CommandAction.Set(cmd, ctx, verbose, (p, ct) =>
        {
            var s = p.GetValue(config) is { } file ? ReproduceSettings.FromJsonFile(file) : new ReproduceSettings();
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
        var summary = ReproduceReport.Tables(r)[0];
        var table = new Table().Title("summary (summary.csv)")
            .AddColumns("method", "acc before", "acc after", "trainable", "node J", "edge J", "node Δ/step", "edge Δ/step", "faithfulness", "critical");
        foreach (var row in summary.Rows)
            table.AddRow(Markup.Escape((string)row[0]!), $"{(double)row[1]!:P1}", $"{(double)row[2]!:P1}", $"{(long)row[3]!:N0} ({(double)row[4]!:P2})",
                $"{(double)row[5]!:F2}", $"{(double)row[6]!:F2}", $"{(double)row[7]!:F1}", $"{(double)row[8]!:F1}", $"{(double)row[9]!:F3}",
                Markup.Escape((string)row[10]!));
        if (r.Composition is { } c)
            table.Caption($"composite task: union of sub-task circuits vs composite circuit — node J {c.NodeJaccard:F2}, edge J {c.EdgeJaccard:F2}, " +
                          $"faithfulness {c.UnionFaithfulness:F3} vs {c.CompositeFaithfulness:F3}");
        return table;
    }
}
