using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Cli.Options;
using CircuitNotebooks.Cli.Reproduce;
using CircuitNotebooks.FineTuning;
using CircuitNotebooks.Models;
using CircuitNotebooks.Tasks;
using Spectre.Console;

namespace CircuitNotebooks.Cli;

/// <summary>`finetune`: one fine-tuning run with checkpoints (resumable), saved as a Hugging Face folder.</summary>
internal static class FinetuneCommand
{
    public static Command Create(CliContext ctx, Option<bool> verbose)
    {
        var model = CommonOptions.Model();
        var device = CommonOptions.Device();
        var dtype = CommonOptions.DType();
        var task = CommonOptions.Task();
        var seed = CommonOptions.Seed();
        var method = new Option<string>("--method") { Description = "full, lora or circuitlora. Default: lora.", HelpName = "name" };
        var steps = new Option<int?>("--steps") { Description = "Optimizer steps. Default: 100.", HelpName = "n" };
        var every = new Option<int?>("--checkpoint-every") { Description = "Checkpoint every N steps. Default: 20.", HelpName = "n" };
        var rank = new Option<int?>("--lora-rank") { Description = "LoRA rank r (α = 2r); CircuitLoRA matches its parameter count. Default: 8.", HelpName = "r" };
        var critical = new Option<string>("--critical-layers") { Description = "CircuitLoRA's critical layers, e.g. 0,2 (e.g. from reproduce's critical_layers.csv).", HelpName = "list" };
        var lr = new Option<double?>("--learning-rate") { Description = "Learning rate. Default: 3e-4 (full), 3e-3 (LoRA).", HelpName = "lr" };
        var examples = new Option<int?>("--examples") { Description = "Task examples generated (90 % train). Default: 1000.", HelpName = "n" };
        var outDir = CommonOptions.Out("out/finetune");
        var cmd = new Command("finetune", "Fine-tune a model on a task (full, LoRA or CircuitLoRA) with checkpoints; re-running with the same --out resumes. " +
                                          "Writes model/ (Hugging Face layout, LoRA merged), loss.csv and result.json.")
            { model, device, dtype, task, seed, method, steps, every, rank, critical, lr, examples, outDir };
        CommandAction.Set(cmd, ctx, verbose, (p, ct) =>
        {
            string modelDir = p.GetValue(model) ?? CommonOptions.DefaultModel, taskName = p.GetValue(task) ?? "addsub", m = p.GetValue(method) ?? "lora";
            int n = p.GetValue(steps) ?? 100, k = p.GetValue(every) ?? 20, r = p.GetValue(rank) ?? 8, s = p.GetValue(seed) ?? 42, count = p.GetValue(examples) ?? 1000;
            if (!ReproduceSettings.AllMethods.Contains(m)) throw CliException.Usage($"--method must be full, lora or circuitlora (got '{m}').");
            if (n <= 0 || k <= 0 || r <= 0 || count < 20) throw CliException.Usage("--steps, --checkpoint-every and --lora-rank must be positive, --examples at least 20.");
            CommonOptions.CheckTask(taskName);
            var dev = ModelLoading.ParseDevice(p.GetValue(device) ?? "cpu");
            var dt = ModelLoading.ParseDType(p.GetValue(dtype) ?? "float32");
            using var hooked = ModelLoading.Load(modelDir, dev, dt);
            using var threads = TorchThreads.For(hooked);
            List<int>? layers = null;
            if (m == "circuitlora")
            {
                var text = p.GetValue(critical) ?? throw CliException.Usage("--method circuitlora needs --critical-layers (e.g. 0,2; reproduce finds them).");
                layers = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t =>
                    int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) && l >= 0 && l < hooked.Config.NLayers
                        ? l : throw CliException.Usage($"--critical-layers: '{t}' is not a layer of this model (0..{hooked.Config.NLayers - 1}).")).Distinct().ToList();
            }
            var data = TaskCatalog.Load(hooked, taskName, count, s);
            double before = Evaluation.ExactMatch(hooked, data.Test);
            var loraConfig = new LoraConfig { Rank = r, Alpha = 2 * r };
            if (layers is not null)
            {
                loraConfig = CircuitLoraPlanner.PlanMatchingLora(hooked.Config, layers, r).Plan.ToLoraConfig(loraConfig);
            }
            using var lora = m == "full" ? null : LoraModel.Attach(hooked, loraConfig, s);
            var cfg = new TrainingConfig
            {
                Steps = n, BatchSize = 16, LearningRate = p.GetValue(lr) ?? (lora is null ? 3e-4 : 3e-3), WarmupSteps = Math.Min(10, n / 5),
                Seed = s, Schedule = LrScheduleKind.Linear, CheckpointEvery = k,
            };
            var dir = new OutputDirectory(p.GetValue(outDir) ?? "out/finetune");
            var train = data.Train.Select(e => TrainingExample.FromTask(hooked, e)).ToList();
            var trainer = new Trainer(hooked, cfg, lora, dir.PathOf("runs"));
            var result = SpectreReporter.Run(ctx.Out, null, rep =>
            {
                using var phase = rep.Phase($"{m}: {n} steps on {taskName}", n);
                return trainer.Train(train, null, new SyncProgress<TrainingProgress>(x => phase.SetValue(x.Step)), ct, resume: true);
            });
            if (result.Cancelled) throw new OperationCanceledException(ct);
            double after = Evaluation.ExactMatch(hooked, data.Test);
            long trainable = lora?.TrainableParameterCount ?? hooked.ParameterCount;
            var loss = new CsvTable("loss.csv", ["step", "loss"]);
            for (int i = 0; i < result.Losses.Count; i++) loss.Add(i + 1, result.Losses[i]);
            dir.WriteText(loss.FileName, loss.ToCsv());
            if (lora is not null) { lora.Merge(); lora.Detach(); }
            ModelExport.Save(hooked, modelDir, dir, "model");
            dir.WriteText("result.json", JsonSerializer.Serialize(new
            {
                model = modelDir, task = taskName, method = m, steps = n, accuracy_before = before, accuracy_after = after,
                trainable_parameters = trainable, critical_layers = layers, lora_rank = r,
            }, new JsonSerializerOptions { WriteIndented = true }));
            ctx.Out.MarkupLineInterpolated($"{m}: accuracy {before:P1} → {after:P1}, {trainable:N0} trainable parameters; model in {dir.PathOf("model")}");
            return 0;
        });
        return cmd;
    }
}
