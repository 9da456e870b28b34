using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using static TorchSharp.torch;

namespace CircuitNotebooks.Patching;

/// <summary>F(C \ K) and F(M \ K) for one removed set K (F = accuracy); completeness is their absolute difference.</summary>
public sealed record CompletenessResult(IReadOnlyList<HeadSite> Removed, double CircuitWithout, double ModelWithout)
{
    public double Completeness => Math.Abs(CircuitWithout - ModelWithout);
}

/// <summary>
/// Head-level circuit evaluation by mean ablation (Prakash et al.): a circuit is a set of
/// <see cref="HeadSite"/>s; every head output (hook_z) at every (row, position) not covered by a site is replaced by its
/// per-position mean over a reference set of prompts (which must have the batch's token count), so circuit heads at
/// other positions are ablated too. MLPs are left to recompute. Faithfulness = circuit accuracy / model accuracy.
/// </summary>
public sealed class MeanAblationEvaluator : IDisposable
{
    private readonly HookedTransformer _model;
    private readonly Ablation _mean;
    private readonly int _referenceLength;

    /// <param name="referenceTokens">Prompts whose per-position mean head outputs replace ablated ones [n, p].</param>
    public MeanAblationEvaluator(HookedTransformer model, Tensor referenceTokens, Tensor? referenceMask = null)
    {
        _model = model;
        _referenceLength = (int)referenceTokens.shape[1];
        _mean = Ablation.PositionMean(referenceTokens, referenceMask);
        _mean.Prepare(model, HookNames(model));
    }

    /// <summary>Rows per forward.</summary>
    public int BatchSize { get; init; } = 64;

    public double ModelAccuracy(PromptBatch batch) => Accuracy(batch, null, keep: true);

    /// <summary>Accuracy of the circuit alone: every head output not covered by a site is mean-ablated.</summary>
    public double Accuracy(PromptBatch batch, IEnumerable<HeadSite> circuit) => Accuracy(batch, circuit.ToList(), keep: true);

    /// <summary>Accuracy of the full model with only the given sites mean-ablated.</summary>
    public double AccuracyWithout(PromptBatch batch, IEnumerable<HeadSite> removed) => Accuracy(batch, removed.ToList(), keep: false);

    public double Faithfulness(PromptBatch batch, IEnumerable<HeadSite> circuit)
    {
        double model = ModelAccuracy(batch);
        if (model == 0) throw new InvalidOperationException("The model gets no row right: faithfulness (circuit / model accuracy) is undefined.");
        return Accuracy(batch, circuit) / model;
    }

    /// <summary>F(C \ K) and F(M \ K): K removed from the circuit, and K alone ablated in the full model.</summary>
    public CompletenessResult Completeness(PromptBatch batch, IEnumerable<HeadSite> circuit, IEnumerable<HeadSite> removed)
    {
        var k = removed.Distinct().ToList();
        var kSet = k.ToHashSet();
        var rest = circuit.Distinct().Where(s => !kSet.Contains(s)).ToList();
        return new CompletenessResult(k, Accuracy(batch, rest), AccuracyWithout(batch, k));
    }

    /// <summary><paramref name="count"/> random subsets of the circuit, each of round(fraction · |C|) sites (at least one).</summary>
    public static IReadOnlyList<IReadOnlyList<HeadSite>> RandomSubsets(IReadOnlyList<HeadSite> circuit, int count, double fraction, int seed)
    {
        if (fraction is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(fraction), $"fraction must be in (0, 1] (got {fraction}).");
        var distinct = circuit.Distinct().ToList();
        int size = Math.Max(1, (int)Math.Round(fraction * distinct.Count));
        var rng = new Random(seed);
        var result = new List<IReadOnlyList<HeadSite>>();
        for (int i = 0; i < count; i++)
            result.Add(distinct.OrderBy(_ => rng.Next()).Take(size).ToList());
        return result;
    }

    /// <summary>Logits with the ablation applied: sites kept (<paramref name="keep"/>) or sites ablated (!keep); null sites = no ablation.</summary>
    public Tensor Logits(PromptBatch batch, IReadOnlyList<HeadSite>? sites, bool keep)
    {
        if (batch.Length != _referenceLength)
            throw new ArgumentException($"The batch has {batch.Length} positions but the mean-ablation reference has {_referenceLength}: " +
                                        "per-position means need prompts of the same length.", nameof(batch));
        using var _ = no_grad();
        if (sites is null) return _model.Forward(batch.Tokens, batch.AttentionMask);
        Validate(sites);
        var hooks = new List<(string, HookFunction)>();
        for (int l = 0; l < _model.Config.NLayers; l++)
        {
            var covered = HeadSiteMask.Covered(batch, sites, l, _model.Config.NHeads);
            var ablate = keep ? covered.logical_not() : covered; // [b, p, H]
            string name = $"blocks.{l}.attn.hook_z";
            hooks.Add((name, (act, hook) =>
            {
                var mean = _mean.Source(_model, name, act); // [1, p, H, dh]
                return where(ablate.to(act.device).unsqueeze(-1), mean, act);
            }));
        }
        return _model.RunWithHooks(batch.Tokens, hooks, batch.AttentionMask);
    }

    private double Accuracy(PromptBatch batch, IReadOnlyList<HeadSite>? sites, bool keep)
    {
        double correct = 0;
        for (int start = 0; start < batch.Rows; start += BatchSize)
        {
            using var scope = NewDisposeScope();
            using var part = start == 0 && batch.Rows <= BatchSize ? null : batch.Slice(start, BatchSize);
            var b = part ?? batch;
            correct += b.AccuracyMetric().Evaluate(Logits(b, sites, keep)) * b.Rows;
        }
        return correct / batch.Rows;
    }

    private void Validate(IEnumerable<HeadSite> sites)
    {
        foreach (var s in sites)
            if (s.Layer < 0 || s.Layer >= _model.Config.NLayers || s.Head < 0 || s.Head >= _model.Config.NHeads)
                throw new ArgumentOutOfRangeException(nameof(sites), $"Site {s} is outside the model ({_model.Config.NLayers} layers × {_model.Config.NHeads} heads).");
    }

    private static IEnumerable<string> HookNames(HookedTransformer model) =>
        Enumerable.Range(0, model.Config.NLayers).Select(l => $"blocks.{l}.attn.hook_z");

    public void Dispose() => _mean.Dispose();
}
