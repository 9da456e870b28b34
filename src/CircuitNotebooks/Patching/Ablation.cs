using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Patching;

public enum AblationKind
{
    /// <summary>Activations of another run (the corrupted / counterfactual prompt, or the clean one for denoising).</summary>
    Patching,
    /// <summary>Zeros.</summary>
    Zero,
    /// <summary>Mean over the reference batch and its real positions, the same at every position.</summary>
    Mean,
    /// <summary>Mean over the reference batch, separately per position (for aligned prompts).</summary>
    PositionMean,
}

/// <summary>
/// Where replacement activations come from. Built once, asked per hook: it caches each hook of the reference run
/// lazily (one forward caching every requested name) and hands out tensors broadcastable to the activation.
/// Dispose to free the cache.
/// </summary>
public sealed class Ablation : IDisposable
{
    private readonly Tensor? _tokens, _mask;
    private ActivationCache? _cache;
    private readonly HashSet<string> _cachedNames = new();

    private Ablation(AblationKind kind, Tensor? tokens, Tensor? mask)
    {
        Kind = kind;
        _tokens = tokens;
        _mask = mask;
    }

    public AblationKind Kind { get; }

    /// <summary>Replace with the activations of running <paramref name="sourceTokens"/> (same shape as the patched run).</summary>
    public static Ablation Patching(Tensor sourceTokens, Tensor? sourceMask = null) => new(AblationKind.Patching, sourceTokens, sourceMask);
    public static Ablation Zero() => new(AblationKind.Zero, null, null);
    /// <summary>Mean over the reference batch's real tokens (padding excluded).</summary>
    public static Ablation Mean(Tensor referenceTokens, Tensor? referenceMask = null) => new(AblationKind.Mean, referenceTokens, referenceMask);
    /// <summary>Per-position mean over the reference batch (rows padded at a position do not count there).</summary>
    public static Ablation PositionMean(Tensor referenceTokens, Tensor? referenceMask = null) => new(AblationKind.PositionMean, referenceTokens, referenceMask);

    /// <summary>Makes sure these hooks are cached with one forward (avoids a forward per hook).</summary>
    public void Prepare(HookedTransformer model, IEnumerable<string> hookNames)
    {
        if (Kind == AblationKind.Zero) return;
        var missing = hookNames.Where(n => !_cachedNames.Contains(n)).ToHashSet();
        if (missing.Count == 0) return;
        foreach (var n in _cachedNames) missing.Add(n);
        _cache?.Dispose();
        using (no_grad())
        {
            var (logits, cache) = model.RunWithCache(_tokens!, missing.Contains, _mask);
            logits.Dispose();
            _cache = cache;
        }
        foreach (var n in missing) _cachedNames.Add(n);
        foreach (var n in missing)
            if (!_cache.Contains(n))
                throw new ArgumentException($"Hook '{n}' did not run (opt-in hook whose option is off, or wrong name).");
    }

    /// <summary>
    /// Replacement for <paramref name="hookName"/> given the live activation (for shape): [b, ...] for Patching,
    /// broadcastable [1, ...] otherwise. Positions run along dim 1 except hook_pattern/hook_attn_scores (query dim 2).
    /// </summary>
    public Tensor Source(HookedTransformer model, string hookName, Tensor activation)
    {
        if (Kind == AblationKind.Zero) return zeros_like(activation[TensorIndex.Slice(0, 1)]);
        Prepare(model, [hookName]);
        var src = _cache![hookName].to(activation.dtype, activation.device);
        if (Kind == AblationKind.Patching)
        {
            if (!src.shape.Skip(1).SequenceEqual(activation.shape.Skip(1)))
                throw new ArgumentException(
                    $"Patching source for '{hookName}' has shape [{string.Join(", ", src.shape)}], the run has " +
                    $"[{string.Join(", ", activation.shape)}]: clean and corrupted prompts must have the same token count.");
            return src;
        }
        int posDim = hookName.EndsWith("hook_pattern") || hookName.EndsWith("hook_attn_scores") ? 2 : 1;
        long b = src.shape[0], p = _tokens!.shape[1];
        var w = (_mask?.to(src.device).to_type(src.dtype) ?? ones(b, p, dtype: src.dtype, device: src.device)); // [b, p]
        // Weight shaped to broadcast over the activation: batch on dim 0, position on posDim.
        var shape = Enumerable.Repeat(1L, (int)src.dim()).ToArray();
        shape[0] = b;
        shape[posDim] = p;
        var wb = w.reshape(shape);
        if (Kind == AblationKind.PositionMean)
        {
            var mean = (src * wb).sum(0, keepdim: true) / wb.sum(0, keepdim: true).clamp_min(1);
            if (mean.shape[posDim] != activation.shape[posDim])
                throw new ArgumentException($"Position-mean reference has {mean.shape[posDim]} positions, the run has {activation.shape[posDim]}.");
            return mean;
        }
        var dims = new long[] { 0, posDim };
        return (src * wb).sum(dims, keepdim: true) / wb.sum(dims, keepdim: true).clamp_min(1);
    }

    public void Dispose() => _cache?.Dispose();
}
