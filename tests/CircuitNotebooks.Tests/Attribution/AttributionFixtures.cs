using CircuitNotebooks.Circuits;
using CircuitNotebooks.Circuits.Attribution;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using CircuitNotebooks.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Attribution;

internal static class AttributionFixtures
{
    /// <summary>Two clean/corrupted rows of 5 tokens and a logit-difference metric on a random model.</summary>
    public static AttributionBatch Batch(HookedTransformer model, int seed = 11, bool padded = false)
    {
        var gen = new Generator((ulong)seed);
        var clean = randint(0, model.Config.DVocab, [2, 5], dtype: ScalarType.Int64, generator: gen).DetachFromDisposeScope();
        var corrupt = randint(0, model.Config.DVocab, [2, 5], dtype: ScalarType.Int64, generator: gen).DetachFromDisposeScope();
        Tensor? mask = padded ? tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 }, [2, 5]).DetachFromDisposeScope() : null;
        return new AttributionBatch(clean, corrupt, mask, Metric.LogitDiff([3, 7], [5, 9], mask));
    }

    public static double MaxAbs(Tensor a) => a.abs().max().to_type(ScalarType.Float64).item<double>();

    public static double MaxAbsDiff(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();

    /// <summary>Sets the model's flags for edge work for the duration of a test.</summary>
    public static IDisposable EdgeOptions(HookedTransformer model)
    {
        model.Options.UseAttnResult = true;
        model.Options.UseSplitQkvInput = true;
        return new Undo(() => { model.Options.UseAttnResult = false; model.Options.UseSplitQkvInput = false; });
    }

    private sealed class Undo(Action a) : IDisposable
    {
        public void Dispose() => a();
    }
}
