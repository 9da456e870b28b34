using CircuitNotebooks.FineTuning;
using System.Diagnostics;
using System.Text.Json;
using CircuitNotebooks.Models;
using CircuitNotebooks.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Tools;

/// <param name="SubtractionShare">Share of infix subtraction ("72 - 46 =", the fine-tuning target's weak half) among Add/Sub examples.</param>
/// <param name="PrefixSubtractionShare">Prefix subtraction ("- 72 46 =") examples per task example: the model learns to
/// subtract, but in another surface form, so fine-tuning can re-route an existing mechanism (Prakash et al.'s premise).</param>
public sealed record PretrainSettings(int Seed = 1234, int Steps = 4000, int BatchSize = 64, double LearningRate = 2e-3,
    int WarmupSteps = 100, double WeightDecay = 0.01, int ExamplesPerTask = 12000,
    int EntityPhaseSteps = 1500, double EntityPhaseLearningRate = 1e-3,
    int Layers = 6, int Heads = 8, int DModel = 128, double SubtractionShare = 0.04, double PrefixSubtractionShare = 0.5);

public sealed record PretrainProgress(int Step, int Steps, double Loss, double LearningRate, double ExamplesPerSecond);

/// <summary>
/// Trains the embedded default model from scratch: a 4-layer GPT-NeoX-style model (parallel attention/MLP, partial
/// rotary, like Pythia) with a word-level tokenizer, on <see cref="TinySuite.PretrainingMix"/>. Loss is on the
/// answer token only. Deterministic for a seed on one machine (libtorch CPU kernels).
/// </summary>
public static class DefaultModelRecipe
{
    /// <summary>The default shape: 6 layers × 8 heads gives 3,580 edges, so a top-5 % circuit has ~180 of them.</summary>
    public static ModelConfig Config => ConfigFor(new PretrainSettings());

    /// <summary>Rotary on half of each head's dimensions, as in Pythia.</summary>
    public static ModelConfig ConfigFor(PretrainSettings s) => new()
    {
        Architecture = Architecture.GptNeoX, NLayers = s.Layers, DModel = s.DModel, NHeads = s.Heads, DMlp = 4 * s.DModel,
        DVocab = TinySuite.Vocabulary.Count, NCtx = 64, Act = Activation.Gelu, Rotary = true, RotaryDim = s.DModel / s.Heads / 2,
        ParallelAttnMlp = true,
    };

    /// <summary>A fresh model with the tiny word-level tokenizer attached.</summary>
    public static HookedTransformer CreateUntrained(int seed, ModelConfig? config = null)
    {
        var model = HookedTransformer.Create(config ?? Config, seed);
        // GPT-NeoX checkpoints have no unembedding bias: keep it at zero so the model saves in HF layout.
        model.unembed_b_U.requires_grad_(false);
        model.Tokenizer = CreateTokenizer();
        return model;
    }

    public static ITokenizer CreateTokenizer()
    {
        var dir = Directory.CreateTempSubdirectory("cn-tok-");
        try
        {
            WriteTokenizer(dir.FullName);
            return HfTokenizer.Load(dir.FullName);
        }
        finally { dir.Delete(true); }
    }

    public static void WriteTokenizer(string directory) =>
        WordLevelTokenizerWriter.Write(directory, TinySuite.Vocabulary, TinySuite.Unk, TinySuite.Bos, TinySuite.Eos,
            TinySuite.Pad, WordSplit.Whitespace);

    public static HookedTransformer Train(PretrainSettings s, IProgress<PretrainProgress>? progress = null,
        CancellationToken cancel = default)
    {
        random.manual_seed(s.Seed);
        // Tiny matrices: one thread avoids OpenMP hand-off costs that dominate at this size (and spin-waiting on busy machines).
        using var threads = TorchThreads.Single();
        return TrainCore(s, progress, cancel);
    }

    private static HookedTransformer TrainCore(PretrainSettings s, IProgress<PretrainProgress>? progress, CancellationToken cancel)
    {
        var model = CreateUntrained(s.Seed, ConfigFor(s));
        RunPhase(model, Mix(s, s.Seed, s.ExamplesPerTask), s.Steps, s.LearningRate, s, s.Seed, progress, cancel);
        RunEntityPhase(model, s, progress, cancel);
        return model;
    }

    /// <summary>
    /// Phase 2 only, on a model that finished phase 1 (the saved phase-1 model reproduces the full recipe without
    /// re-running its 8,000 steps).
    /// </summary>
    public static void ContinueWithEntityPhase(HookedTransformer phaseOneModel, PretrainSettings s,
        IProgress<PretrainProgress>? progress = null, CancellationToken cancel = default)
    {
        // Same as CreateUntrained: NeoX checkpoints have no unembedding bias, so it must stay at its loaded zero.
        phaseOneModel.unembed_b_U.requires_grad_(false);
        using var threads = TorchThreads.Single();
        RunEntityPhase(phaseOneModel, s, progress, cancel);
    }

    /// <summary>
    /// Phase 2: binding an object to its box label needs a two-step lookup that phase 1 leaves at chance; a curriculum
    /// with 2-box prompts (a stronger gradient signal) next to 3-box ones, replaying half a phase-1 mix so the other
    /// tasks are kept, gets it moving.
    /// </summary>
    private static void RunEntityPhase(HookedTransformer model, PretrainSettings s, IProgress<PretrainProgress>? progress,
        CancellationToken cancel)
    {
        if (s.EntityPhaseSteps <= 0) return;
        int n = s.ExamplesPerTask;
        var twoBoxes = new EntityTrackingGenerator("tiny-entity-tracking-2",
            new EntityTrackingOptions(NumBoxes: 2, Objects: TinySuite.Objects, BoxLabels: TinySuite.BoxLabels));
        var replay = Mix(s, s.Seed + 17, n / 2);
        var data = twoBoxes.Generate(n, s.Seed + 18, TinySuite.Template)
            .Concat(TinySuite.EntityTracking.Generate(n, s.Seed + 19, TinySuite.Template))
            .Concat(replay.Take(n))
            .ToList();
        RunPhase(model, data, s.EntityPhaseSteps, s.EntityPhaseLearningRate, s, s.Seed + 20, progress, cancel);
    }

    /// <summary>The tiny suite's mix with rare infix subtraction, plus prefix subtraction (same operands and answers).</summary>
    public static IReadOnlyList<TaskExample> Mix(PretrainSettings s, int seed, int perTask)
    {
        var mix = TinySuite.PretrainingMix(seed, perTask, s.SubtractionShare).ToList();
        int prefix = (int)(perTask * s.PrefixSubtractionShare);
        mix.AddRange(TinySuite.AddSub.Generate(Math.Min(2 * prefix, 10_000), seed + 5, TinySuite.Template)
            .Where(e => e.Metadata?["op"] == "-")
            .Select(e => new TaskExample(PrefixForm(e), PrefixForm(e), e.Label, null, e.Metadata)));
        var rng = new Random(seed + 6);
        for (int i = mix.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (mix[i], mix[j]) = (mix[j], mix[i]);
        }
        return mix;
    }

    /// <summary>"- a b =" from an infix subtraction example (metadata carries its operands).</summary>
    public static string PrefixForm(TaskExample e) =>
        TinySuite.Template.Apply(TaskFamily.Arithmetic, $"- {e.Metadata!["a"]} {e.Metadata["b"]} =");

    private static void RunPhase(HookedTransformer model, IReadOnlyList<TaskExample> data, int steps, double peakLr,
        PretrainSettings s, int seed, IProgress<PretrainProgress>? progress, CancellationToken cancel)
    {
        var opt = optim.AdamW(model.parameters().Where(p => p.requires_grad), lr: peakLr, weight_decay: s.WeightDecay);
        var rng = new Random(seed);
        var sw = Stopwatch.StartNew();
        for (int step = 1; step <= steps; step++)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            double lr = peakLr * Math.Min(1.0, step / (double)s.WarmupSteps)
                        * 0.5 * (1 + Math.Cos(Math.PI * Math.Max(0, step - s.WarmupSteps) / Math.Max(1, steps - s.WarmupSteps)));
            foreach (var g in opt.ParamGroups) g.LearningRate = lr;
            var examples = Enumerable.Range(0, s.BatchSize).Select(_ => data[rng.Next(data.Count)]).ToList();
            using var batch = AnswerBatch.FromExamples(model, examples);
            var logits = model.Forward(batch.Batch.Tokens, batch.Batch.AttentionMask);
            var loss = nn.functional.cross_entropy(batch.AnswerLogits(logits), batch.Labels);
            opt.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(model.parameters(), 1.0);
            opt.step();
            if (step % 100 == 0 || step == steps || step == 10)
            {
                double l = loss.item<float>();
                if (double.IsNaN(l) || double.IsInfinity(l))
                    throw new InvalidOperationException($"Pre-training diverged at step {step} (loss {l}); lower the learning rate.");
                progress?.Report(new PretrainProgress(step, steps, l, lr, step * s.BatchSize / sw.Elapsed.TotalSeconds));
            }
        }
    }

    /// <summary>Held-out accuracy per tiny-suite task (fresh seed, so examples differ from training draws).</summary>
    public static IReadOnlyDictionary<string, double> EvaluateSuite(HookedTransformer model, int count = 500, int seed = 99)
    {
        var result = new Dictionary<string, double>();
        foreach (var (name, make) in TinySuite.ByName)
        {
            var ex = make().Generate(count, seed, TinySuite.Template);
            result[name] = Evaluation.ExactMatch(model, ex);
        }
        var addsub = TinySuite.AddSub.Generate(count * 2, seed, TinySuite.Template);
        result["addsub (+ only)"] = Evaluation.ExactMatch(model, addsub.Where(e => e.Metadata?["op"] == "+").ToList());
        var minus = addsub.Where(e => e.Metadata?["op"] == "-").ToList();
        result["addsub (- only)"] = Evaluation.ExactMatch(model, minus);
        result["prefix subtraction (- a b)"] = Evaluation.ExactMatch(model,
            minus.Select(e => new TaskExample(PrefixForm(e), PrefixForm(e), e.Label, null, e.Metadata)).ToList());
        return result;
    }

    /// <summary>Writes the model as a Hugging Face directory with its tokenizer and a model card.</summary>
    public static void Save(HookedTransformer model, string directory, PretrainSettings s, IReadOnlyDictionary<string, double> accuracy)
    {
        model.SavePretrained(directory);
        WriteTokenizer(directory);
        var card = ModelCard(model, s, accuracy);
        AtomicFile.WriteAllText(Path.Combine(directory, "README.md"), card);
        AtomicFile.WriteAllText(Path.Combine(directory, "training_settings.json"),
            JsonSerializer.Serialize(s, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static string ModelCard(HookedTransformer m, PretrainSettings s, IReadOnlyDictionary<string, double> acc)
    {
        var c = m.Config;
        var rows = string.Join("\n", acc.Select(kv => $"| {kv.Key} | {kv.Value:P1} |"));
        return $"""
            # tiny-neox — CircuitNotebooks' embedded default model

            A {c.NLayers}-layer GPT-NeoX-style transformer (parallel attention + MLP, rotary on {c.RotaryDim} of {c.DHead}
            head dims, like Pythia), d_model {c.DModel}, {c.NHeads} heads, d_mlp {c.DMlp}, vocabulary {c.DVocab}
            (word level: every number 0..{TinySuite.MaxNumber} is one token). {m.ParameterCount:N0} parameters.

            Trained from scratch by `circuitnb train-default` (seed {s.Seed}, batch {s.BatchSize}, AdamW, weight decay
            {s.WeightDecay}, {s.WarmupSteps} warm-up steps then cosine decay in each phase, loss on the answer token only):
            - phase 1: {s.Steps} steps at lr {s.LearningRate} on a mix built so the fine-tuning target (Add/Sub, infix
              `72 - 46 =`) is weak while the skill it needs is present: addition within 100 is common, infix subtraction rare
              ({s.SubtractionShare:P0} of Add/Sub examples), and subtraction is common in prefix form (`- 72 46 =`,
              {s.PrefixSubtractionShare:F1} × the examples of a task); plus arithmetic sequences, products (the outer half of
              the composite task) and entity tracking with 3 boxes ({s.ExamplesPerTask} examples a task). Fine-tuning on infix
              Add/Sub then has an existing subtraction mechanism to re-route (Prakash et al.'s premise) rather than one to build;
            - phase 2: {s.EntityPhaseSteps} steps at lr {s.EntityPhaseLearningRate} on 2-box and 3-box entity tracking plus
              a replay of the phase-1 mix (phase 1 leaves entity tracking at chance).

            Shape: {c.NLayers} layers × {c.NHeads} heads give {Circuits.CircuitGraph.FromConfig(c).EdgeCount:N0} edges in the EAP-IG graph, so a top-5 %
            circuit has about {Circuits.CircuitSelection.EdgesForFraction(Circuits.CircuitGraph.FromConfig(c).EdgeCount, 0.05)} edges
            (Pythia-1.4B: 24 × 16 heads, 231,493 edges).

            ## Accuracy before fine-tuning (held-out, exact match, 500 examples each)
            | task | accuracy |
            |---|---|
            {rows}

            Fine-tuning results (full, LoRA, CircuitLoRA) are produced by `circuitnb reproduce` into its report.
            """;
    }
}
