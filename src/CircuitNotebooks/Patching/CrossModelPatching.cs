using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using static TorchSharp.torch;

namespace CircuitNotebooks.Patching;

/// <summary>What CMAP copies from the source model for each head site.</summary>
[Flags]
public enum HeadComponents
{
    /// <summary>The head's output (hook_z) at the site's token.</summary>
    Output = 1,
    /// <summary>The head's query (hook_q) at the site's token.</summary>
    Query = 2,
    /// <summary>The head's keys (hook_k) at every token up to and including the site's.</summary>
    Key = 4,
    /// <summary>The head's values (hook_v) at every token up to and including the site's.</summary>
    Value = 8,
}

/// <summary>Two models passed to CMAP do not share an architecture.</summary>
public sealed class ModelMismatchException(string message) : Exception(message);

/// <summary>
/// Cross-model activation patching (Prakash et al. §5): run the target (e.g. base) model on prompts
/// with some activations taken from a source (e.g. fine-tuned) model run on the same prompts. Head-level patching
/// copies a group's outputs, or its q/k/v, at the group's positions; with q/k/v the head's output elsewhere is held
/// at the target's own value so only the site's computation changes.
/// </summary>
public static class CrossModelPatching
{
    /// <summary>Throws <see cref="ModelMismatchException"/> naming the differing config fields.</summary>
    public static void EnsureCompatible(HookedTransformer target, HookedTransformer source)
    {
        if (target.Config == source.Config) return;
        var diffs = typeof(ModelConfig).GetProperties()
            .Where(p => p.GetIndexParameters().Length == 0 && !Equals(p.GetValue(target.Config), p.GetValue(source.Config)))
            .Select(p => $"{p.Name}: {p.GetValue(target.Config)} vs {p.GetValue(source.Config)}");
        throw new ModelMismatchException("CMAP needs two models of the same architecture and shapes; configs differ in " +
                                         string.Join("; ", diffs) + ".");
    }

    /// <summary>Logits of <paramref name="target"/> with the sites' components copied from <paramref name="source"/>;
    /// <paramref name="wholeHooks"/> (e.g. <c>blocks.0.hook_mlp_out</c>) are copied entirely.</summary>
    public static Tensor Logits(HookedTransformer target, HookedTransformer source, PromptBatch batch, IEnumerable<HeadSite> sites,
        HeadComponents components = HeadComponents.Output, IEnumerable<string>? wholeHooks = null)
    {
        EnsureCompatible(target, source);
        var siteList = sites.Distinct().ToList();
        var whole = (wholeHooks ?? []).Distinct().ToList();
        int L = target.Config.NLayers, H = target.Config.NHeads, kv = target.Config.KvHeads;
        foreach (var s in siteList)
            if (s.Layer < 0 || s.Layer >= L || s.Head < 0 || s.Head >= H)
                throw new ArgumentOutOfRangeException(nameof(sites), $"Site {s} is outside the model ({L} layers × {H} heads).");
        if (siteList.Count > 0 && components == 0) throw new ArgumentException("No components to patch.", nameof(components));

        using var _ = no_grad();
        var layers = siteList.Select(s => s.Layer).Distinct().ToList();
        bool qkv = (components & (HeadComponents.Query | HeadComponents.Key | HeadComponents.Value)) != 0;
        var names = new HashSet<string>(whole);
        foreach (var l in layers)
        {
            if (components.HasFlag(HeadComponents.Output)) names.Add($"blocks.{l}.attn.hook_z");
            if (components.HasFlag(HeadComponents.Query)) names.Add($"blocks.{l}.attn.hook_q");
            if (components.HasFlag(HeadComponents.Key)) names.Add($"blocks.{l}.attn.hook_k");
            if (components.HasFlag(HeadComponents.Value)) names.Add($"blocks.{l}.attn.hook_v");
        }
        var (srcLogits, src) = source.RunWithCache(batch.Tokens, names.Contains, batch.AttentionMask);
        srcLogits.Dispose();
        // With q/k/v patched, the target's own z at non-site tokens holds the head's output there fixed.
        ActivationCache? own = null;
        if (qkv && siteList.Any(s => s.Position is not null))
        {
            var zNames = layers.Select(l => $"blocks.{l}.attn.hook_z").ToHashSet();
            var (ownLogits, ownCache) = target.RunWithCache(batch.Tokens, zNames.Contains, batch.AttentionMask);
            ownLogits.Dispose();
            own = ownCache;
        }
        try
        {
            foreach (var n in names)
                if (!src.Contains(n)) throw new ArgumentException($"Hook '{n}' did not run in the source model (wrong name or opt-in hook).", nameof(wholeHooks));
            var hooks = new List<(string, HookFunction)>();
            foreach (var n in whole) hooks.Add((n, (HookFunction)((act, h) => src[n].to(act.dtype, act.device))));
            foreach (var l in layers)
            {
                var at = siteList.Where(s => s.Layer == l).ToList();
                var site = HeadSiteMask.Covered(batch, at, l, H).to(target.Device); // [b, p, H]
                if (components.HasFlag(HeadComponents.Query)) Add(hooks, $"blocks.{l}.attn.hook_q", site, src);
                if (components.HasFlag(HeadComponents.Key)) Add(hooks, $"blocks.{l}.attn.hook_k", UpTo(site, kv), src);
                if (components.HasFlag(HeadComponents.Value)) Add(hooks, $"blocks.{l}.attn.hook_v", UpTo(site, kv), src);
                string z = $"blocks.{l}.attn.hook_z";
                if (components.HasFlag(HeadComponents.Output)) Add(hooks, z, site, src);
                if (own is not null)
                {
                    // Heads with a site: keep their own output at every other token of the row.
                    var headHasSite = site.any(1, keepdim: true);           // [b, 1, H]
                    var elsewhere = headHasSite.logical_and(site.logical_not()); // [b, p, H]
                    Add(hooks, z, elsewhere, own);
                }
            }
            return target.RunWithHooks(batch.Tokens, hooks, batch.AttentionMask);
        }
        finally
        {
            src.Dispose();
            own?.Dispose();
        }
    }

    /// <summary>Accuracy of the patched target model on the batch's labels.</summary>
    public static double Accuracy(HookedTransformer target, HookedTransformer source, PromptBatch batch, IEnumerable<HeadSite> sites,
        HeadComponents components = HeadComponents.Output, IEnumerable<string>? wholeHooks = null, int batchSize = 64)
    {
        var siteList = sites.ToList();
        var whole = wholeHooks?.ToList();
        double correct = 0;
        for (int start = 0; start < batch.Rows; start += batchSize)
        {
            using var scope = NewDisposeScope();
            using var part = batch.Slice(start, batchSize);
            correct += part.AccuracyMetric().Evaluate(Logits(target, source, part, siteList, components, whole)) * part.Rows;
        }
        return correct / batch.Rows;
    }

    /// <summary>Every head of every layer at every token (the whole attention computation's outputs).</summary>
    public static IReadOnlyList<HeadSite> AllHeads(ModelConfig config) =>
        Enumerable.Range(0, config.NLayers).SelectMany(l => Enumerable.Range(0, config.NHeads).Select(h => new HeadSite(l, h))).ToList();

    private static void Add(List<(string, HookFunction)> hooks, string name, Tensor where3, ActivationCache from)
    {
        hooks.Add((name, (HookFunction)((act, h) =>
        {
            var sel = where3.to(act.device).unsqueeze(-1); // [b, p, heads, 1]
            if (sel.shape[2] != act.shape[2])
                throw new InvalidOperationException($"'{name}' has {act.shape[2]} heads, the site mask {sel.shape[2]}.");
            return TorchSharp.torch.where(sel, from[name].to(act.dtype, act.device), act);
        })));
    }

    /// <summary>
    /// Key/value selection: every token at or before a site's token, per kv head (a query head's kv head is
    /// h / (n_heads / n_kv_heads); with grouped-query attention the kv head's other query heads see the change too).
    /// </summary>
    private static Tensor UpTo(Tensor site, int kvHeads)
    {
        long b = site.shape[0], p = site.shape[1], H = site.shape[2];
        // Reverse cumulative "any site at or after this token" along positions.
        var later = site.flip(1).to_type(ScalarType.Int32).cumsum(1).flip(1).gt(0); // [b, p, H]
        if (kvHeads == H) return later;
        return later.view(b, p, kvHeads, H / kvHeads).any(3);
    }
}
