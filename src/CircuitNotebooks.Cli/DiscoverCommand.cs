using System.CommandLine;
using System.Text.Json;
using CircuitNotebooks.Circuits;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Cli.Options;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Cli.Reproduce;
using CircuitNotebooks.Models;
using Spectre.Console;

namespace CircuitNotebooks.Cli;

/// <summary>`discover`: one EAP-IG circuit for a model and a task.</summary>
internal static class DiscoverCommand
{
    public static Command Create(CliContext ctx, Option<bool> verbose)
    {
        var model = CommonOptions.Model();
        var device = CommonOptions.Device();
        var dtype = CommonOptions.DType();
        var task = CommonOptions.Task();
        var edges = CommonOptions.Edges();
        var ig = CommonOptions.IgSteps();
        var seed = CommonOptions.Seed();
        var examples = new Option<int?>("--examples") { Description = "Examples the scores are averaged over. Default: 32.", HelpName = "n" };
        var outDir = CommonOptions.Out("out/discover");
        var cmd = new Command("discover", "Discover one EAP-IG circuit for a model and a task; writes circuit.json (all scores), edges.csv and summary.json.")
            { model, device, dtype, task, edges, ig, seed, examples, outDir };
        CommandAction.Set(cmd, ctx, verbose, (p, ct) =>
        {
            string modelDir = p.GetValue(model) ?? CommonOptions.DefaultModel, taskName = p.GetValue(task) ?? "addsub";
            var budget = p.GetValue(edges) is { } e ? EdgeBudget.Parse(e) : EdgeBudget.Default;
            int m = p.GetValue(ig) ?? 5, s = p.GetValue(seed) ?? 42, n = p.GetValue(examples) ?? 32;
            if (m <= 0) throw CliException.Usage($"--ig-steps must be positive (got {m}).");
            if (n <= 0) throw CliException.Usage($"--examples must be positive (got {n}).");
            CommonOptions.CheckTask(taskName);
            var dev = ModelLoading.ParseDevice(p.GetValue(device) ?? "cpu");
            var dt = ModelLoading.ParseDType(p.GetValue(dtype) ?? "float32");
            using var hooked = ModelLoading.Load(modelDir, dev, dt);
            using var threads = TorchThreads.For(hooked);
            var options = budget.ApplyTo(new DiscoveryOptions
            {
                Method = AttributionMethod.EapIgInputs, Steps = m, Examples = n, Seed = s,
                Label = $"{taskName} ({Path.GetFileName(Path.GetFullPath(modelDir))})", Cancellation = ct,
            });
            DiscoveryResult found = SpectreReporter.Run(ctx.Out, null, r =>
            {
                using var phase = r.Phase($"EAP-IG (m = {m}) on {n} examples of {taskName}", n);
                return CircuitDiscovery.Discover(hooked, taskName, options with { Progress = new SyncProgress<int>(v => phase.SetValue(v)) });
            });
            var dir = new OutputDirectory(p.GetValue(outDir) ?? "out/discover");
            var c = found.Circuit;
            dir.WriteText("circuit.json", CircuitFile.ToJson(c, includeAllScores: true));
            var table = new CsvTable("edges.csv", ["edge", "score"]);
            foreach (var edge in c.EdgesInCircuit().OrderByDescending(x => Math.Abs(x.Score))) table.Add(edge.Name, (double)edge.Score);
            dir.WriteText(table.FileName, table.ToCsv());
            dir.WriteText("summary.json", JsonSerializer.Serialize(new
            {
                model = modelDir, task = taskName, metric = found.Circuit.Metadata.Metric, examples = found.Scores.Examples, ig_steps = m, edges_budget = budget.ToString(),
                nodes = c.NodeCountInCircuit, edges = c.EdgeCountInCircuit, faithfulness = found.Faithfulness!.Normalized,
            }, new JsonSerializerOptions { WriteIndented = true }));
            var t = new Table().Title($"circuit for {taskName}").AddColumns("edge", "score");
            foreach (var row in table.Rows.Take(10)) t.AddRow(Markup.Escape((string)row[0]!), $"{(double)row[1]!:G4}");
            ctx.Out.Write(t);
            ctx.Out.MarkupLineInterpolated($"{c.NodeCountInCircuit} nodes, {c.EdgeCountInCircuit} edges, faithfulness {found.Faithfulness!.Normalized:F3} ({found.Circuit.Metadata.Metric}); written to {dir.Root}");
            return 0;
        });
        return cmd;
    }
}
