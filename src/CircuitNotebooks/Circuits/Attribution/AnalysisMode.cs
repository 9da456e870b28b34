using CircuitNotebooks.Models;

namespace CircuitNotebooks.Circuits.Attribution;

/// <summary>Switches a model's opt-in analysis flags for the lifetime of the returned handle; the old flags come back on dispose.</summary>
internal static class AnalysisMode
{
    /// <summary>Split q/k/v inputs and per-head results (EAP-IG over activations interpolates hook_result).</summary>
    public static IDisposable Edge(HookedTransformer model) => Set(model, split: true, result: true, expandKv: false);
    /// <summary>Split q/k/v inputs only (edge-patched forwards: per-head results are computed for the heads they need).</summary>
    public static IDisposable SplitInputs(HookedTransformer model) => Set(model, split: true, result: false, expandKv: false);
    /// <summary>The model as it normally runs, with per-query-head k/v under GQA (plain edge runs take gradients there).</summary>
    public static IDisposable Plain(HookedTransformer model) => Set(model, split: false, result: false, expandKv: true);

    private static IDisposable Set(HookedTransformer model, bool split, bool result, bool expandKv)
    {
        var o = model.Options;
        bool s = o.UseSplitQkvInput, r = o.UseAttnResult, e = o.ExpandKvHeads;
        (o.UseSplitQkvInput, o.UseAttnResult, o.ExpandKvHeads) = (split, result, expandKv);
        return new Restore(() => (o.UseSplitQkvInput, o.UseAttnResult, o.ExpandKvHeads) = (s, r, e));
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        private Action? _undo = undo;
        public void Dispose() => Interlocked.Exchange(ref _undo, null)?.Invoke();
    }
}
