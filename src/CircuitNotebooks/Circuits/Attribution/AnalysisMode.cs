using CircuitNotebooks.Models;

namespace CircuitNotebooks.Circuits.Attribution;

/// <summary>Switches a model's opt-in analysis flags for the lifetime of the returned handle; the old flags come back on dispose.</summary>
internal static class AnalysisMode
{
    /// <summary>Split q/k/v inputs only (edge-patched forwards: per-head results are computed for the heads they need).</summary>
    public static IDisposable SplitInputs(HookedTransformer model) => Set(model, split: true, expandKv: false);
    /// <summary>
    /// The model as it normally runs, with per-query-head k/v under GQA: plain edge runs take gradients at
    /// hook_q/k/v and map them back through the projection weights.
    /// </summary>
    public static IDisposable Plain(HookedTransformer model) => Set(model, split: false, expandKv: true);

    /// <remarks>Every mode folds attention adapters into their weights (no adapter dropout): edge work rebuilds
    /// gradients and per-head results from exactly those weights, even while an adapter is in training mode.
    /// Per-head results are never switched on: edge code computes them from hook_z for the heads it needs.</remarks>
    private static IDisposable Set(HookedTransformer model, bool split, bool expandKv)
    {
        var o = model.Options;
        bool s = o.UseSplitQkvInput, r = o.UseAttnResult, e = o.ExpandKvHeads, f = o.FoldAdapters;
        (o.UseSplitQkvInput, o.UseAttnResult, o.ExpandKvHeads, o.FoldAdapters) = (split, false, expandKv, true);
        return new Restore(() => (o.UseSplitQkvInput, o.UseAttnResult, o.ExpandKvHeads, o.FoldAdapters) = (s, r, e, f));
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        private Action? _undo = undo;
        public void Dispose() => Interlocked.Exchange(ref _undo, null)?.Invoke();
    }
}
