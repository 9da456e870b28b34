using CircuitNotebooks.FineTuning;
using CircuitNotebooks.Models;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.FineTuning;

public class TrainerTests
{
    private readonly ITestOutputHelper _output;

    public TrainerTests(ITestOutputHelper output)
    {
        _output = output;
        SingleThreadedTorch.Ensure();
    }

    [Fact]
    public void FullFineTuningLearnsCopyFirstToken()
    {
        using var model = ToyData.Fresh("gpt2", 3);
        var train = ToyData.CopyFirst(256, 1);
        var test = ToyData.CopyFirst(96, 2);
        double before = Evaluation.ExactMatch(model, test);
        var cfg = new TrainingConfig { Steps = 300, BatchSize = 16, LearningRate = 1e-2, WarmupSteps = 20, Schedule = LrScheduleKind.Cosine, Seed = 5 };
        var result = new Trainer(model, cfg).Train(train, test);
        double after = result.FinalEvalAccuracy!.Value;
        _output.WriteLine($"full FT copy-first: accuracy {before:P1} → {after:P1}, loss {result.Losses[0]:F3} → {result.Losses[^1]:F3}");
        Assert.True(before < 0.25, $"before {before}");
        Assert.True(after > 0.8, $"accuracy {before} → {after}");
        Assert.Equal(after, Evaluation.ExactMatch(model, test), 12);
        Assert.True(result.Losses.Take(10).Average() > 2 * result.Losses.TakeLast(10).Average());
    }

    [Fact]
    public void LoraLearnsCopyFirstTokenWithBaseUnchanged()
    {
        using var model = ToyData.Fresh("neox", 4);
        var baseWeights = model.StateDict();
        var train = ToyData.CopyFirst(256, 1);
        var test = ToyData.CopyFirst(96, 2);
        double before = Evaluation.ExactMatch(model, test);
        using var lora = LoraModel.Attach(model, new LoraConfig { Rank = 4, Alpha = 8 }, seed: 1);
        var cfg = new TrainingConfig { Steps = 300, BatchSize = 16, LearningRate = 2e-2, WarmupSteps = 20, Seed = 5 };
        var result = new Trainer(model, cfg, lora).Train(train, test);
        _output.WriteLine($"LoRA copy-first: accuracy {before:P1} → {result.FinalEvalAccuracy:P1}, loss {result.Losses[0]:F3} → {result.Losses[^1]:F3}");
        Assert.True(result.FinalEvalAccuracy > before + 0.3, $"accuracy {before} → {result.FinalEvalAccuracy}");
        foreach (var (name, p) in model.NamedParameters())
            Assert.True(p.eq(baseWeights[name]).all().item<bool>(), $"base parameter {name} changed");
    }

    [Fact]
    public void OneStepMatchesHandComputedAnswerTokenGradient()
    {
        // With a huge Adam ε (and lr = ε) the first update is −lr·g/(|g|+ε) ≈ −g: the parameter change reveals the gradient. The
        // reference gradient comes from unpadded single-example forwards, summing answer-token cross-entropies.
        const double lr = 1e3, eps = 1e3;
        var data = ToyData.Ragged(8, 3);
        var cfg = new TrainingConfig { Steps = 1, BatchSize = 8, LearningRate = lr, AdamEps = eps, ClipGradNorm = 0, Schedule = LrScheduleKind.Constant };

        Dictionary<string, Tensor> Delta(TrainingConfig c)
        {
            using var m = ToyData.Fresh("llama", 2);
            var before = m.StateDict();
            new Trainer(m, c).Train(data);
            return m.NamedParameters().ToDictionary(p => p.Name, p => (p.Param.detach() - before[p.Name]).DetachFromDisposeScope());
        }

        using var scope = NewDisposeScope();
        var big = Delta(cfg);
        var accumulated = Delta(cfg with { BatchSize = 2, GradAccumulation = 4 });

        using var reference = ToyData.Fresh("llama", 2);
        long answerTokens = data.Sum(e => e.AnswerTokens);
        Tensor total = zeros(1);
        foreach (var e in data)
        {
            var logits = reference.Forward(tensor(e.Ids.Select(i => (long)i).ToArray(), [1, e.Length]))[0];
            for (int t = 1; t < e.Length; t++)
                if (e.AnswerMask[t]) total = total - logits[t - 1].log_softmax(-1)[e.Ids[t]];
        }
        (total / answerTokens).backward();
        foreach (var (name, p) in reference.NamedParameters())
        {
            var g = p.grad!;
            var expected = -lr * g / (g.abs() + eps);
            double scale = expected.abs().max().item<float>() + 1e-12;
            Assert.True((big[name] - expected).abs().max().item<float>() < 1e-3 * scale + 1e-9, $"big batch, {name}");
            Assert.True((accumulated[name] - expected).abs().max().item<float>() < 1e-3 * scale + 1e-9, $"accumulated, {name}");
            Assert.True(big[name].allclose(accumulated[name], rtol: 1e-4, atol: 1e-8), $"big vs accumulated, {name}");
        }
    }

    [Theory]
    [InlineData("full")]
    [InlineData("lora")]
    public void ResumeReproducesUninterruptedRun(string mode)
    {
        var train = ToyData.Ragged(10, 7);
        var cfg = new TrainingConfig
        {
            Steps = 12, BatchSize = 3, GradAccumulation = 2, LearningRate = 3e-3, WarmupSteps = 3, WeightDecay = 0.01,
            CheckpointEvery = 4, Seed = 11,
        };
        var lcfg = new LoraConfig { Rank = 2, Alpha = 4, Dropout = 0.2 };
        (HookedTransformer, LoraModel?, Trainer) Setup(string dir)
        {
            var m = ToyData.Fresh("gpt2", 8);
            var l = mode == "lora" ? LoraModel.Attach(m, lcfg, 3) : null;
            return (m, l, new Trainer(m, cfg, l, dir));
        }
        string dirA = ToyData.TempDir(), dirB = ToyData.TempDir();
        try
        {
            var (mA, lA, tA) = Setup(dirA);
            var full = tA.Train(train).Losses;
            Assert.Equal(12, full.Count);
            Assert.Equal([0, 4, 8, 12], CheckpointManager.List(dirA).Select(i => i.Step));

            var (mB, lB, tB) = Setup(dirB);
            using var cts = new CancellationTokenSource();
            var partial = tB.Train(train, progress: new SyncProgress<TrainingProgress>(p => { if (p.Step == 6) cts.Cancel(); }), cancellationToken: cts.Token);
            Assert.True(partial.Cancelled);
            Assert.Equal(6, partial.StepsCompleted);
            Assert.Equal(6, CheckpointManager.Latest(dirB)!.Step);

            var (mC, lC, tC) = Setup(dirB); // fresh objects: everything must come from the checkpoint
            var resumed = tC.Train(train, resume: true);
            Assert.Equal(6, resumed.ResumedFromStep);
            AssertSameCurve(full, resumed.Losses);

            // Resuming from a periodic checkpoint (step 8 of the resumed run was written along the way; drop 12).
            Directory.Delete(Path.Combine(dirB, "step-000012"), true);
            var (mD, lD, tD) = Setup(dirB);
            var again = tD.Train(train, resume: true);
            Assert.Equal(8, again.ResumedFromStep);
            AssertSameCurve(full, again.Losses);
            if (mode == "lora")
                foreach (var (n, p) in lA!.TrainableParameters.Zip(lD!.TrainableParameters).Select(z => (z.First.Name, (z.First.Param, z.Second.Param))))
                    Assert.True(p.Item1.allclose(p.Item2, rtol: 1e-5, atol: 1e-7), n);
            else
                foreach (var ((n, a), (_, b)) in mA.NamedParameters().Zip(mD.NamedParameters()))
                    Assert.True(a.allclose(b, rtol: 1e-5, atol: 1e-7), n);
            foreach (var x in new IDisposable?[] { lA, lB, lC, lD, mA, mB, mC, mD }) x?.Dispose();
        }
        finally
        {
            Directory.Delete(dirA, true);
            Directory.Delete(dirB, true);
        }
    }

    private static void AssertSameCurve(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 * Math.Max(1, Math.Abs(expected[i])), $"step {i + 1}: {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void DivergenceThrowsAndKeepsLastCheckpointReadable()
    {
        string dir = ToyData.TempDir();
        try
        {
            using var model = ToyData.Fresh("gpt2", 1);
            var cfg = new TrainingConfig { Steps = 20, BatchSize = 4, LearningRate = 1e30, ClipGradNorm = 0, CheckpointEvery = 1, Schedule = LrScheduleKind.Constant };
            var ex = Assert.Throws<TrainingDivergedException>(() => new Trainer(model, cfg, runDirectory: dir).Train(ToyData.Ragged(8, 1)));
            Assert.Contains($"step {ex.Step}", ex.Message);
            Assert.True(ex.Step >= 2);
            var latest = CheckpointManager.Latest(dir)!;
            Assert.Equal(ex.Step - 1, latest.Step);
            Assert.Equal(Path.GetFullPath(latest.Directory!), Path.GetFullPath(ex.LastCheckpoint!));
            Assert.Equal(ex.Step - 1, latest.Losses.Count);
            Assert.All(latest.Losses, l => Assert.True(double.IsFinite(l)));
            var weights = new CheckpointManager(dir).LoadWeights(latest);
            using var fresh = ToyData.Fresh("gpt2", 1);
            fresh.LoadStateDict(weights);
            Assert.Empty(Directory.EnumerateFileSystemEntries(dir).Where(p => Path.GetFileName(p).StartsWith('.')));
            foreach (var t in weights.Values) t.Dispose();
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void LoraCheckpointHoldsOnlyAdaptersAndReportsProgress()
    {
        string dir = ToyData.TempDir();
        try
        {
            using var model = ToyData.Fresh("llama", 1);
            using var lora = LoraModel.Attach(model, new LoraConfig { Rank = 2, Alpha = 2, Targets = ["attn.W_Q", "mlp.W_out"] }, 0);
            var seen = new List<TrainingProgress>();
            var cfg = new TrainingConfig { Steps = 5, BatchSize = 2, CheckpointEvery = 2, EvalEvery = 2, LearningRate = 1e-3 };
            var data = ToyData.CopyFirst(6, 1);
            var r = new Trainer(model, cfg, lora, dir).Train(data, data, new SyncProgress<TrainingProgress>(seen.Add));
            Assert.Equal([0, 1, 2, 3, 4, 5], seen.Select(p => p.Step));
            Assert.Equal([0, 2, 4, 5], r.EvalHistory.Select(e => e.Step));
            Assert.Equal([0, 2, 4, 5], CheckpointManager.List(dir).Select(i => i.Step));
            Assert.All(seen.Skip(1), p => Assert.True(p.TokensPerSecond > 0 && double.IsFinite(p.Loss)));
            var info = CheckpointManager.Latest(dir)!;
            Assert.Equal("lora", info.Mode);
            Assert.Equal(["attn.W_Q", "mlp.W_out"], info.Lora!.Targets);
            var w = new CheckpointManager(dir).LoadWeights(info);
            Assert.Equal(lora.Modules.Count * 2, w.Count);
            Assert.All(w.Keys, k => Assert.Matches(@"^blocks\.\d+\.(attn\.W_Q|mlp\.W_out)\.lora_[AB]$", k));
            foreach (var (n, p) in lora.TrainableParameters) Assert.True(p.eq(w[n]).all().item<bool>(), n);
            foreach (var t in w.Values) t.Dispose();

            // The step-2 adapters, loaded into a fresh base + adapters, give that checkpoint's logits.
            using var other = ToyData.Fresh("llama", 1);
            using var otherLora = LoraModel.Attach(other, info.Lora, 9);
            var step2 = CheckpointManager.List(dir).Single(i => i.Step == 2);
            new CheckpointManager(dir).LoadInto(step2, other, otherLora);
            var w2 = new CheckpointManager(dir).LoadWeights(step2);
            foreach (var (n, p) in otherLora.TrainableParameters) Assert.True(p.eq(w2[n]).all().item<bool>(), n);
            Assert.Throws<ArgumentException>(() => new CheckpointManager(dir).LoadInto(step2, ToyData.Fresh("llama", 1)));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ExactMatchAgreesWithPerExampleArgmax()
    {
        using var model = ToyData.Fresh("neox", 2);
        var data = ToyData.Ragged(20, 4);
        // Plant some hits: set each answer to the model's own greedy continuation for half of the examples.
        var planted = data.Select((e, i) =>
        {
            if (i % 2 == 1) return e;
            var ids = e.Ids.ToArray();
            using var _ = no_grad();
            for (int t = 1; t < ids.Length; t++)
                if (e.AnswerMask[t])
                    ids[t] = (int)model.Forward(tensor(ids.Take(t).Select(x => (long)x).ToArray(), [1, t]))[0, t - 1].argmax().item<long>();
            return e with { Ids = ids };
        }).ToList();
        int hits = 0;
        using (no_grad())
            foreach (var e in planted)
            {
                var logits = model.Forward(tensor(e.Ids.Select(x => (long)x).ToArray(), [1, e.Length]))[0];
                bool ok = Enumerable.Range(1, e.Length - 1).Where(t => e.AnswerMask[t])
                    .All(t => logits[t - 1].argmax().item<long>() == e.Ids[t]);
                if (ok) hits++;
            }
        Assert.True(hits >= 10);
        Assert.Equal(hits / 20.0, Evaluation.ExactMatch(model, planted, batchSize: 7), 12);
    }

    [Fact]
    public void PerLayerLearningRatesReachTheOptimizer()
    {
        // Layer 1 gets learning rate 0 through the plan: its adapters must not move while layer 0's do.
        using var model = ToyData.Fresh("gpt2", 1);
        var cfg = new LoraConfig { Rank = 2, Alpha = 4 }.WithLayerPlan(new Dictionary<int, (int, double)> { [1] = (3, 6) }, learningRate: 0);
        using var lora = LoraModel.Attach(model, cfg, 0);
        var before = lora.AdapterStateDict();
        new Trainer(model, new TrainingConfig { Steps = 3, BatchSize = 4, LearningRate = 1e-2 }, lora).Train(ToyData.Ragged(8, 2));
        foreach (var (name, p) in lora.TrainableParameters)
        {
            bool moved = !p.eq(before[name]).all().item<bool>();
            Assert.True(name.StartsWith("blocks.1.") ? !moved : moved, $"{name} moved = {moved}");
        }
    }

    [Fact]
    public void TextPairsBecomePromptPlusAnswerTokens()
    {
        using var model = ToyData.Fresh("gpt2", 1);
        model.Tokenizer = new CharTokenizer();
        var e = TrainingExample.FromText(model, "ab", "c");
        Assert.Equal([CharTokenizer.Bos, 'a' - 'a' + 3, 'b' - 'a' + 3, 'c' - 'a' + 3], e.Ids);
        Assert.Equal([false, false, false, true], e.AnswerMask);
        Assert.Throws<ArgumentException>(() => TrainingExample.FromText(model, "ab", ""));
    }

    private sealed class CharTokenizer : ITokenizer
    {
        public const int Bos = 1;
        public int VocabSize => 40;
        public int? BosId => Bos;
        public int? EosId => 2;
        public int? PadId => 0;
        public IReadOnlyList<int> Encode(string text) => text.Select(c => c - 'a' + 3).ToList();
        public string Decode(IEnumerable<int> ids) => new(ids.Select(i => (char)('a' + i - 3)).ToArray());
        public string TokenToString(int id) => Decode([id]);
    }

    [Fact]
    public void ScheduleFactorsFollowClosedForm()
    {
        Assert.Equal(0.5, LrSchedule.Factor(LrScheduleKind.Linear, 1, 10, 2));
        Assert.Equal(1.0, LrSchedule.Factor(LrScheduleKind.Linear, 2, 10, 2));
        Assert.Equal(1.0, LrSchedule.Factor(LrScheduleKind.Linear, 3, 10, 2));
        Assert.Equal(1 - 3 / 8.0, LrSchedule.Factor(LrScheduleKind.Linear, 6, 10, 2), 12);
        Assert.Equal(0.5, LrSchedule.Factor(LrScheduleKind.Cosine, 7, 10, 2), 12); // progress 4/8
        Assert.Equal(1.0, LrSchedule.Factor(LrScheduleKind.Constant, 9, 10, 2));
    }

    [Fact]
    public void BadInputsNameTheProblem()
    {
        using var model = ToyData.Fresh("gpt2", 1);
        var bad = new List<TrainingExample> { TrainingExample.FromIds([1, 2], [3]), new([1, 2, 99], [false, false, true]) };
        var ex = Assert.Throws<ArgumentException>(() => new Trainer(model, new TrainingConfig { Steps = 1 }).Train(bad));
        Assert.Contains("training example 1", ex.Message);
        Assert.Contains("99", ex.Message);
        Assert.Contains("BatchSize", Assert.Throws<ArgumentException>(() => new TrainingConfig { BatchSize = 0 }.Validate()).Message);
    }

    [Fact]
    public void TensorStoreRoundTripsBitExact()
    {
        string dir = ToyData.TempDir();
        try
        {
            using var scope = NewDisposeScope();
            var gen = new Generator(3);
            var tensors = new Dictionary<string, Tensor>
            {
                ["f32"] = randn([3, 4], generator: gen),
                ["f64"] = randn([5], dtype: ScalarType.Float64, generator: gen),
                ["i64"] = tensor(new long[] { long.MinValue, 7, long.MaxValue }),
                ["bf16"] = randn([2, 2], generator: gen).to_type(ScalarType.BFloat16),
                ["scalar"] = tensor(3L),
            };
            string path = Path.Combine(dir, "t.safetensors");
            var store = new SafetensorsTensorStore();
            store.Save(path, tensors, new Dictionary<string, string> { ["k"] = "v" });
            Assert.Equal(["t.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName));
            var back = store.Load(path);
            Assert.Equal(tensors.Keys.Order(), back.Keys.Order());
            foreach (var (k, t) in tensors)
            {
                Assert.Equal(t.dtype, back[k].dtype);
                Assert.Equal(t.shape, back[k].shape);
                Assert.True(t.eq(back[k]).all().item<bool>(), k);
            }
            Assert.Equal("v", SafetensorsTensorStore.ReadMeta(path)["k"]);
            File.WriteAllBytes(path, [1, 2, 3]);
            var bad = Assert.ThrowsAny<IOException>(() => store.Load(path));
            Assert.Contains("t.safetensors", bad.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
