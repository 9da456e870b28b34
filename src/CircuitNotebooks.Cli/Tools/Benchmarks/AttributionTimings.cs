using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Models;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Tools;

/// <summary>
/// Per-round seconds (per call) of what the attribution ratios compare: a plain forward, a forward + backward, one
/// EAP-IG call and one faithfulness evaluation of a top-5 % circuit, interleaved (<see cref="Spread.Time"/>).
/// </summary>
public sealed record AttributionTimings(double[] Forward, double[] ForwardBackward, double[] Backward, double[] EapIg, double[] Faithfulness, int Steps)
{
    /// <summary>EAP-IG / ((m + 2) forwards + m backwards), round by round.</summary>
    public Spread EapIgRatio => Spread.Ratio(EapIg, Forward.Zip(Backward, (f, b) => (Steps + 2) * f + Steps * b).ToArray());
    public Spread FaithfulnessRatio => Spread.Ratio(Faithfulness, Forward);

    /// <summary>
    /// <paramref name="calls"/> back-to-back calls per round for the short runs (a forward of tens of ms moves by
    /// ±50 % on a shared 2-core VM); EAP-IG is long enough on its own. The backward is forward + backward minus a
    /// forward with autograd on.
    /// </summary>
    public static AttributionTimings Measure(HookedTransformer model, AttributionBatch batch, AttributionOptions options, int rounds,
        int calls = 1, int copiesPerForward = 4)
    {
        var g = CircuitGraph.FromConfig(model.Config);
        // A realistic budget for the faithfulness run: the top 5 % of edges by |EAP score| on this batch.
        var circuit = CircuitSelection.TopN(EdgeAttribution.Compute(model, batch, options with { Method = AttributionMethod.Eap }).ToCircuit(),
            Math.Max(1, g.EdgeCount / 20));
        using var eval = new FaithfulnessEvaluator(model, batch) { CopiesPerForward = copiesPerForward };
        var t = Spread.Time([
            Spread.Repeated(() => { using var s = NewDisposeScope(); using var _ = no_grad(); model.Forward(batch.Clean, batch.AttentionMask); }, calls),
            Spread.Repeated(() => { using var s = NewDisposeScope(); using var _ = enable_grad(); model.Forward(batch.Clean, batch.AttentionMask); }, calls),
            Spread.Repeated(() => AttributionBenchmarks.ForwardBackward(model, batch), calls),
            () => EdgeAttribution.Compute(model, batch, options),
            Spread.Repeated(() => eval.Evaluate(circuit), calls),
        ], rounds);
        double[] PerCall(double[] x) => x.Select(v => v / calls).ToArray();
        double[] forward = PerCall(t[0]), forwardGrad = PerCall(t[1]), forwardBackward = PerCall(t[2]);
        var backward = forwardBackward.Zip(forwardGrad, (fb, f) => Math.Max(0, fb - f)).ToArray();
        return new AttributionTimings(forward, forwardBackward, backward, t[3], PerCall(t[4]), options.Steps);
    }
}
