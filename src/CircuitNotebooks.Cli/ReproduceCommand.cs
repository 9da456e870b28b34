using System.CommandLine;
using CircuitNotebooks.Cli.Reproduce;
using Spectre.Console;

namespace CircuitNotebooks.Cli;

/// <summary>`reproduce`: the main job on the embedded default (or any model given with --model).</summary>
internal static class ReproduceCommand
{
    public static Command Create()
    {
        var d = new ReproduceSettings();
        var model = new Option<string>("--model") { Description = "Local Hugging Face model directory.", DefaultValueFactory = _ => d.Model };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => d.Device };
        var task = new Option<string>("--task") { Description = "Task (tiny suite): addsub, arith-seq, composite, ...", DefaultValueFactory = _ => d.Task };
        var steps = new Option<int>("--steps") { Description = "Fine-tuning steps per method.", DefaultValueFactory = _ => d.Steps };
        var every = new Option<int>("--checkpoint-every") { Description = "Circuit discovery every N steps.", DefaultValueFactory = _ => d.CheckpointEvery };
        var methods = new Option<string>("--methods") { Description = "Comma list of full, lora, circuitlora.", DefaultValueFactory = _ => string.Join(",", d.Methods) };
        var edges = new Option<double>("--edges") { Description = "Fraction of edges kept (0..1).", DefaultValueFactory = _ => d.EdgeFraction };
        var ig = new Option<int>("--ig-steps") { Description = "EAP-IG interpolation steps.", DefaultValueFactory = _ => d.IgSteps };
        var seed = new Option<int>("--seed") { Description = "Seed.", DefaultValueFactory = _ => d.Seed };
        var outDir = new Option<string>("--out") { Description = "Output directory.", DefaultValueFactory = _ => d.Out };
        var verbose = new Option<bool>("--verbose") { Description = "Show stack traces on errors." };
        var cmd = new Command("reproduce", "Fine-tune (full, LoRA, CircuitLoRA), discover circuits at every checkpoint and write a report.")
            { model, device, task, steps, every, methods, edges, ig, seed, outDir, verbose };
        cmd.SetAction((p, ct) =>
        {
            var s = new ReproduceSettings
            {
                Model = p.GetValue(model)!, Device = p.GetValue(device)!, Task = p.GetValue(task)!, Steps = p.GetValue(steps),
                CheckpointEvery = p.GetValue(every), Methods = p.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                EdgeFraction = p.GetValue(edges), IgSteps = p.GetValue(ig), Seed = p.GetValue(seed), Out = p.GetValue(outDir)!,
            };
            try
            {
                if (s.Device is not ("cpu" or "cuda")) throw new ArgumentException($"--device must be cpu or cuda (got '{s.Device}').");
                if (s.Steps <= 0 || s.CheckpointEvery <= 0) throw new ArgumentException("--steps and --checkpoint-every must be positive.");
                if (s.EdgeFraction is <= 0 or > 1) throw new ArgumentException($"--edges must be in (0, 1] (got {s.EdgeFraction}).");
                var runs = new ReproducePipeline(s, m => AnsiConsole.WriteLine(m)).Run(ct);
                var table = new Table().AddColumns("method", "acc before", "acc after", "trainable params", "node J (final vs base)", "edge J", "faithfulness");
                foreach (var r in runs)
                {
                    var c = CircuitNotebooks.Circuits.CircuitComparison.Compare(r.Circuits[0], r.Circuits[^1]);
                    table.AddRow(r.Method, $"{r.AccuracyBefore:P1}", $"{r.AccuracyAfter:P1}", $"{r.TrainableParameters:N0}",
                        $"{c.NodeJaccard:F2}", $"{c.EdgeJaccard:F2}", $"{r.Faithfulness[^1]:F2}");
                }
                AnsiConsole.Write(table);
                AnsiConsole.MarkupLine($"report: [link]{Path.Combine(s.Out, "report.html")}[/]");
                return Task.FromResult(0);
            }
            catch (Exception e) when (e is not OperationCanceledException && !p.GetValue(verbose))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return Task.FromResult(1);
            }
        });
        return cmd;
    }
}
