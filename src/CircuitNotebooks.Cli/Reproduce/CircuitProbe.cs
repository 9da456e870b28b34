using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.FineTuning.Pretraining;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using CircuitNotebooks.Tasks;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>EAP-IG circuit discovery (logit difference label vs corrupted label) on a fixed batch of examples.</summary>
public sealed class CircuitProbe : IDisposable
{
    private readonly AttributionBatch _batch;
    private readonly ReproduceSettings _s;

    public CircuitProbe(HookedTransformer model, IReadOnlyList<TaskExample> examples, ReproduceSettings s)
    {
        _s = s;
        var clean = examples.Select(e => model.Encode(e.Clean)).ToList();
        var corrupt = examples.Select(e => model.Encode(e.Corrupted)).ToList();
        for (int i = 0; i < clean.Count; i++)
            if (clean[i].Length != corrupt[i].Length)
                throw new ArgumentException($"Example {i}: clean has {clean[i].Length} tokens, corrupted {corrupt[i].Length}; they must match.");
        var cb = model.Pad(clean, PaddingSide.Right);
        var kb = model.Pad(corrupt, PaddingSide.Right);
        long[] Label(Func<TaskExample, string> f) => examples.Select(e =>
        {
            var ids = model.Tokenizer!.Encode(" " + f(e));
            return ids.Count == 1 ? (long)ids[0] : throw new ArgumentException($"Label '{f(e)}' is not one token.");
        }).ToArray();
        _batch = new AttributionBatch(cb.Tokens, kb.Tokens, cb.AttentionMask,
            Metric.LogitDiff(Label(e => e.Label), Label(e => e.CorruptedLabel ?? e.Label), cb.AttentionMask));
    }

    public AttributionBatch Batch => _batch;

    public (Circuit Circuit, EdgeScores Scores, double Faithfulness) Discover(HookedTransformer model, string label)
    {
        var scores = EdgeAttribution.Compute(model, _batch, new AttributionOptions { Method = AttributionMethod.EapIgInputs, Steps = _s.IgSteps });
        var graph = CircuitGraph.FromConfig(model.Config);
        var all = Circuit.FromScores(graph, scores.Scores, new CircuitMetadata
        {
            Task = _s.Task, Method = $"EAP-IG-inputs(m={_s.IgSteps})", Metric = "logit_diff", ModelFingerprint = model.Config.Fingerprint,
            Label = label, IgSteps = _s.IgSteps,
        });
        var circuit = CircuitPruning.Prune(CircuitSelection.TopFraction(all, _s.EdgeFraction)).Circuit;
        using var eval = new FaithfulnessEvaluator(model, _batch);
        double faith = eval.Evaluate(circuit.CopyEdgeMask()).Normalized;
        return (circuit, scores, faith);
    }

    public void Dispose()
    {
        _batch.Clean.Dispose();
        _batch.Corrupted.Dispose();
        _batch.AttentionMask?.Dispose();
    }
}
