using System.Diagnostics;
using CircuitNotebooks.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CircuitNotebooks.FineTuning;

/// <summary>
/// Fine-tunes a model, fully or through LoRA adapters, with AdamW on the answer tokens only. Everything random is
/// derived from (seed, step), and checkpoints carry the optimizer moments, so a resumed run repeats the loss curve
/// of an uninterrupted one.
/// </summary>
public sealed class Trainer
{
    private readonly HookedTransformer _model;
    private readonly LoraModel? _lora;
    private readonly CheckpointManager? _checkpoints;
    private int[]? _permutation;
    private int _permutationEpoch = -1;

    /// <param name="lora">Adapters to train (base frozen); null = full fine-tuning of every trainable parameter.</param>
    /// <param name="runDirectory">Where step checkpoints go; null = no checkpoints.</param>
    public Trainer(HookedTransformer model, TrainingConfig config, LoraModel? lora = null, string? runDirectory = null, ITensorStore? store = null)
    {
        _model = model;
        Config = config.Validate();
        _lora = lora;
        if (lora is not null && !ReferenceEquals(lora.Model, model))
            throw new ArgumentException("The LoRA adapters are attached to a different model.", nameof(lora));
        if (runDirectory is not null) _checkpoints = new CheckpointManager(runDirectory, store);
    }

    public TrainingConfig Config { get; }
    public string Mode => _lora is null ? "full" : "lora";
    public string? RunDirectory => _checkpoints?.RunDirectory;

    /// <summary>
    /// Trains on <paramref name="train"/>; evaluates exact match on <paramref name="eval"/>. With
    /// <paramref name="resume"/>, continues from the latest checkpoint in the run directory (if any).
    /// Cancellation stops after the current step and writes a checkpoint. A NaN/∞ loss or gradient norm throws
    /// <see cref="TrainingDivergedException"/> before that step's update.
    /// </summary>
    public TrainingResult Train(IReadOnlyList<TrainingExample> train, IReadOnlyList<TrainingExample>? eval = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, bool resume = false)
    {
        int? nCtx = _model.Config.Rotary ? null : _model.Config.NCtx;
        TrainingExample.Validate(train, "training", _model.Config.DVocab, nCtx);
        if (eval is not null) TrainingExample.Validate(eval, "evaluation", _model.Config.DVocab, nCtx);
        if (_lora is { IsMerged: true }) throw new InvalidOperationException("Unmerge the LoRA adapters before training them.");

        var groups = BuildGroups();
        var named = groups.SelectMany(g => g.Parameters).ToList();
        var baseLrs = groups.Select(g => g.LearningRate ?? Config.LearningRate).ToArray();
        var optGroups = groups.Select((g, i) => new AdamW.ParamGroup(g.Parameters.Select(p => p.Param), new AdamW.Options
        {
            LearningRate = baseLrs[i], beta1 = Config.Beta1, beta2 = Config.Beta2, eps = Config.AdamEps,
            weight_decay = g.Name == "no_decay" ? 0 : Config.WeightDecay, amsgrad = false, maximize = false,
        })).ToList();
        using var optimizer = new AdamW(optGroups, Config.LearningRate, Config.Beta1, Config.Beta2, Config.AdamEps, Config.WeightDecay);
        var parameters = named.Select(p => p.Param).ToList();

        int total = Config.TotalSteps(train.Count);
        var losses = new List<double>();
        var evals = new List<EvalPoint>();
        string? lastCheckpoint = null;
        int startStep = 0;

        if (resume && _checkpoints is not null && CheckpointManager.Latest(_checkpoints.RunDirectory) is { } latest)
        {
            Restore(latest, named, optimizer, total);
            startStep = latest.Step;
            losses.AddRange(latest.Losses);
            evals.AddRange(latest.EvalHistory);
            lastCheckpoint = latest.Directory;
        }
        else
        {
            double? acc0 = null;
            if (eval is not null && Config.EvalEvery > 0)
            {
                acc0 = Evaluate(eval, cancellationToken);
                evals.Add(new EvalPoint(0, acc0.Value));
            }
            if (_checkpoints is not null)
                lastCheckpoint = SaveCheckpoint(0, total, null, acc0, losses, evals, named, optimizer);
            progress?.Report(new TrainingProgress(0, total, double.NaN, 0, 0, acc0, lastCheckpoint));
        }

        var stepSeconds = new List<double>();
        long tokens = 0;
        bool cancelled = false;
        if (_lora is not null) _lora.Training = true;
        try
        {
            for (int step = startStep + 1; step <= total; step++)
            {
                double lr = 0;
                var sw = Stopwatch.StartNew();
                var (loss, realTokens) = Step(step, total, train, optimizer, parameters, baseLrs, lastCheckpoint, ref lr);
                sw.Stop();
                losses.Add(loss);
                stepSeconds.Add(sw.Elapsed.TotalSeconds);
                tokens += realTokens;

                bool last = step == total;
                double? acc = null;
                if (eval is not null && (last || (Config.EvalEvery > 0 && step % Config.EvalEvery == 0)))
                {
                    if (_lora is not null) _lora.Training = false;
                    acc = Evaluate(eval, CancellationToken.None);
                    if (_lora is not null) _lora.Training = true;
                    evals.Add(new EvalPoint(step, acc.Value));
                }
                string? written = null;
                if (_checkpoints is not null && (last || (Config.CheckpointEvery > 0 && step % Config.CheckpointEvery == 0)))
                    lastCheckpoint = written = SaveCheckpoint(step, total, loss, acc, losses, evals, named, optimizer);
                progress?.Report(new TrainingProgress(step, total, loss, lr, realTokens / sw.Elapsed.TotalSeconds, acc, written));
                // Checked after the report so a cancel issued from the progress callback stops right at this step.
                if (cancellationToken.IsCancellationRequested && !last)
                {
                    cancelled = true;
                    if (_checkpoints is not null && written is null)
                        lastCheckpoint = SaveCheckpoint(step, total, loss, acc, losses, evals, named, optimizer);
                    break;
                }
            }
        }
        finally
        {
            if (_lora is not null) _lora.Training = false;
        }
        return new TrainingResult(losses.Count, total, losses, evals, lastCheckpoint, cancelled, startStep, stepSeconds, tokens);
    }

    /// <summary>One optimizer step over GradAccumulation micro-batches; returns the mean answer-token loss.</summary>
    private (double Loss, long RealTokens) Step(int step, int total, IReadOnlyList<TrainingExample> train, AdamW optimizer,
        List<Parameter> parameters, double[] baseLrs, string? lastCheckpoint, ref double lr)
    {
        using var scope = NewDisposeScope();
        // Reseeding per step makes the step reproducible after a resume; adapters use their own generator so that
        // global randomness consumed elsewhere (other cells, parallel tests) cannot shift their masks.
        long stepSeed = DeriveSeed(Config.Seed, step);
        random.manual_seed(stepSeed);
        _lora?.ReseedDropout(stepSeed);
        double factor = LrSchedule.Factor(Config.Schedule, step, total, Config.WarmupSteps);
        int gi = 0;
        foreach (var g in optimizer.ParamGroups) g.LearningRate = baseLrs[gi++] * factor;
        lr = Config.LearningRate * factor;

        long padId = _model.Tokenizer?.PadId ?? _model.Tokenizer?.EosId ?? 0;
        var micro = Enumerable.Range(0, Config.GradAccumulation)
            .Select(j => Batch.Collate(MicroBatch(train, (long)(step - 1) * Config.GradAccumulation + j), padId, _model.Device))
            .ToList();
        // Normalise by the answer tokens of the whole step, so k micro-batches give exactly one big batch's gradient.
        long answerTokens = micro.Sum(m => m.AnswerTokens);
        optimizer.zero_grad();
        double loss = 0;
        foreach (var mb in micro)
        {
            var logits = _model.Forward(mb.Tokens, mb.AttentionMask);
            long b = logits.shape[0], p = logits.shape[1], v = logits.shape[2];
            var ce = nn.functional.cross_entropy(
                logits.narrow(1, 0, p - 1).reshape(-1, v), mb.Targets.reshape(-1), reduction: nn.Reduction.None);
            var part = (ce * mb.AnswerMask.reshape(-1)).sum() / answerTokens;
            double value = part.item<float>();
            if (!double.IsFinite(value)) throw new TrainingDivergedException(step, value, "the loss", lastCheckpoint);
            part.backward();
            loss += value;
        }
        if (Config.ClipGradNorm > 0)
        {
            double norm = nn.utils.clip_grad_norm_(parameters, Config.ClipGradNorm);
            if (!double.IsFinite(norm)) throw new TrainingDivergedException(step, norm, "the gradient norm", lastCheckpoint);
        }
        optimizer.step();
        return (loss, micro.Sum(m => m.RealTokens));
    }

    /// <summary>The examples of micro-batch <paramref name="index"/>: consecutive slots of a per-epoch permutation.</summary>
    private List<TrainingExample> MicroBatch(IReadOnlyList<TrainingExample> train, long index)
    {
        var list = new List<TrainingExample>(Config.BatchSize);
        for (long k = index * Config.BatchSize; k < (index + 1) * Config.BatchSize; k++)
        {
            int epoch = (int)(k / train.Count);
            if (epoch != _permutationEpoch)
            {
                _permutation = Permutation(train.Count, Config.Seed, epoch);
                _permutationEpoch = epoch;
            }
            list.Add(train[_permutation![(int)(k % train.Count)]]);
        }
        return list;
    }

    /// <summary>Fisher–Yates shuffle seeded by (seed, epoch) — the data order of any step follows from the seed.</summary>
    public static int[] Permutation(int n, int seed, int epoch)
    {
        var rng = new Random(unchecked(seed * 7919 + epoch * 104729 + 17));
        var perm = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (perm[i], perm[j]) = (perm[j], perm[i]);
        }
        return perm;
    }

    private static long DeriveSeed(int seed, int step) => unchecked(seed * 1_000_003L + step);

    private double Evaluate(IReadOnlyList<TrainingExample> eval, CancellationToken ct) =>
        Evaluation.ExactMatch(_model, eval, Config.EvalBatchSize, ct);

    private IReadOnlyList<ParameterGroup> BuildGroups()
    {
        if (_lora is not null)
        {
            if (!_lora.IsAttached) throw new InvalidOperationException("The LoRA adapters were detached.");
            return _lora.ParameterGroups;
        }
        var trainable = _model.NamedParameters().Where(p => p.Param.requires_grad).ToList();
        if (trainable.Count == 0) throw new InvalidOperationException("No model parameter requires gradients (is a LoRA still attached?).");
        // Decoupled weight decay on matrices only; norms, biases and b_U are left alone.
        return new[]
        {
            new ParameterGroup("decay", trainable.Where(p => p.Param.dim() >= 2).ToList(), null),
            new ParameterGroup("no_decay", trainable.Where(p => p.Param.dim() < 2).ToList(), null),
        }.Where(g => g.Parameters.Count > 0).ToList();
    }

    private string SaveCheckpoint(int step, int total, double? loss, double? acc, List<double> losses, List<EvalPoint> evals,
        List<(string Name, Parameter Param)> named, AdamW optimizer)
    {
        using var scope = NewDisposeScope();
        var weights = _lora is not null ? _lora.AdapterStateDict() : _model.StateDict();
        var opt = new Dictionary<string, Tensor>();
        var states = optimizer.state_dict().State;
        for (int i = 0; i < named.Count; i++)
        {
            var s = (AdamW.State)states[i];
            opt["exp_avg/" + named[i].Name] = s.exp_avg;
            opt["exp_avg_sq/" + named[i].Name] = s.exp_avg_sq;
            opt["step/" + named[i].Name] = tensor(s.step);
        }
        var info = new CheckpointInfo
        {
            Step = step, TotalSteps = total, Loss = loss, EvalAccuracy = acc, Mode = Mode, Seed = Config.Seed,
            ModelFingerprint = _model.Config.Fingerprint, Training = Config, Lora = _lora?.Config,
            Losses = losses.ToList(), EvalHistory = evals.ToList(),
            WeightsFile = (_lora is not null ? "adapter" : "model") + _checkpoints!.Extension,
            OptimizerFile = "optimizer" + _checkpoints.Extension,
        };
        try
        {
            return _checkpoints.Save(info, weights, opt);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    private void Restore(CheckpointInfo info, List<(string Name, Parameter Param)> named, AdamW optimizer, int total)
    {
        string where = $"checkpoint '{info.Directory}'";
        if (info.Mode != Mode) throw new InvalidOperationException($"{where} is a {info.Mode} checkpoint; this trainer does {Mode} fine-tuning.");
        if (info.ModelFingerprint != _model.Config.Fingerprint) throw new InvalidOperationException($"{where} was written for another model architecture.");
        if (info.Training != Config) throw new InvalidOperationException($"{where} used a different TrainingConfig; resume needs the same one.");
        if (info.TotalSteps != total) throw new InvalidOperationException($"{where} planned {info.TotalSteps} steps, this run {total} (different training set size?).");

        using var scope = NewDisposeScope();
        var weights = _checkpoints!.LoadWeights(info);
        var opt = _checkpoints.LoadOptimizer(info);
        try
        {
            if (_lora is not null) _lora.LoadAdapterStateDict(weights, where);
            else _model.LoadStateDict(weights, where);
            var states = optimizer.state_dict().State;
            using var _ = no_grad();
            for (int i = 0; i < named.Count; i++)
            {
                var s = (AdamW.State)states[i];
                string n = named[i].Name;
                Tensor Get(string key) => opt.TryGetValue(key, out var t)
                    ? t : throw new InvalidDataException($"{where}: optimizer state lacks '{key}'.");
                s.exp_avg.copy_(Get("exp_avg/" + n));
                s.exp_avg_sq.copy_(Get("exp_avg_sq/" + n));
                s.step = Get("step/" + n).item<long>();
            }
        }
        finally
        {
            foreach (var t in weights.Values.Concat(opt.Values)) t.Dispose();
        }
    }
}
