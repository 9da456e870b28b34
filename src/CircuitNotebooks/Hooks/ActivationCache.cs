using CircuitNotebooks.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Hooks;

/// <summary>
/// Activations (and, when asked, their gradients under "name_grad") recorded by <see cref="HookRunner.RunWithCache"/>.
/// Owns its tensors: dispose the cache to free them.
/// </summary>
public sealed partial class ActivationCache : IDisposable
{
    private readonly Dictionary<string, Tensor> _store;

    internal ActivationCache(HookedTransformer model, Dictionary<string, Tensor> store)
    {
        Model = model;
        _store = store;
    }

    public HookedTransformer Model { get; }
    public IReadOnlyCollection<string> Keys => _store.Keys;
    public int Count => _store.Count;
    public bool Contains(string name) => _store.ContainsKey(name);

    public Tensor this[string name] => _store.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException(
            $"'{name}' is not in the cache ({_store.Count} entries). Was it excluded by the names filter, or is it an " +
            $"opt-in hook (attn.hook_result needs Options.UseAttnResult, hook_q_input needs UseSplitQkvInput)?");

    /// <summary>name → shape, for display and quick inspection.</summary>
    public IReadOnlyDictionary<string, long[]> Shapes => _store.ToDictionary(kv => kv.Key, kv => kv.Value.shape);

    /// <summary>
    /// Per-head outputs [layers·heads, b, p, d_model] from hook_z and the effective W_O (LoRA deltas included, see
    /// <see cref="Attention.HeadOutputs"/>), labelled "L{l}H{h}".
    /// </summary>
    public (Tensor Stack, string[] Labels) StackHeadResults(int uptoLayer = -1)
    {
        int n = uptoLayer < 0 ? Model.Config.NLayers : uptoLayer;
        var parts = new List<Tensor>();
        var labels = new List<string>();
        for (int l = 0; l < n; l++)
        {
            var z = this[$"blocks.{l}.attn.hook_z"]; // [b, p, h, dh]
            using (no_grad()) parts.Add(Model.Blocks[l].attn.HeadOutputs(z).permute(2, 0, 1, 3));
            labels.AddRange(Enumerable.Range(0, Model.Config.NHeads).Select(h => $"L{l}H{h}"));
        }
        return (cat(parts, 0), labels.ToArray());
    }

    /// <summary>
    /// The residual stream before <paramref name="layer"/> (or the final one for -1) split into its additive parts:
    /// embed (+ pos_embed), then attn_out and mlp_out per layer. Biases of attention outputs are inside attn_out.
    /// </summary>
    public (Tensor Stack, string[] Labels) DecomposeResid(int layer = -1)
    {
        int n = layer < 0 ? Model.Config.NLayers : layer;
        var parts = new List<Tensor> { this["hook_embed"] };
        var labels = new List<string> { "embed" };
        if (!Model.Config.Rotary) { parts.Add(this["hook_pos_embed"]); labels.Add("pos_embed"); }
        for (int l = 0; l < n; l++)
        {
            parts.Add(this[$"blocks.{l}.hook_attn_out"]); labels.Add($"{l}_attn_out");
            parts.Add(this[$"blocks.{l}.hook_mlp_out"]); labels.Add($"{l}_mlp_out");
        }
        return (stack(parts, 0), labels.ToArray());
    }

    /// <summary>resid_pre of every layer up to <paramref name="layer"/> plus the final resid_post: [n+1, b, p, d].</summary>
    public (Tensor Stack, string[] Labels) AccumulatedResid(int layer = -1)
    {
        int n = layer < 0 ? Model.Config.NLayers : layer;
        var parts = Enumerable.Range(0, n).Select(l => this[$"blocks.{l}.hook_resid_pre"]).ToList();
        var labels = Enumerable.Range(0, n).Select(l => $"{l}_pre").ToList();
        if (n == Model.Config.NLayers)
        {
            parts.Add(this[$"blocks.{n - 1}.hook_resid_post"]);
            labels.Add("final_post");
        }
        else
        {
            parts.Add(this[$"blocks.{n}.hook_resid_pre"]);
            labels.Add($"{n}_pre");
        }
        return (stack(parts, 0), labels.ToArray());
    }

    /// <summary>
    /// Applies the final norm to each component of a residual stack the way it acts on their sum: centre (LayerNorm)
    /// and divide by the cached scale of the full stream (ln_final.hook_scale), so components stay additive.
    /// </summary>
    public Tensor ApplyLnToStack(Tensor residStack)
    {
        var scale = this["ln_final.hook_scale"]; // [b, p, 1]
        var x = Model.Config.Norm == NormKind.LayerNorm ? residStack - residStack.mean([-1], keepdim: true) : residStack;
        return x / scale;
    }

    /// <summary>
    /// Direct logit attribution of each component at position <paramref name="pos"/> to the answer tokens [b]
    /// (minus the wrong tokens, if given): [components, b]. The norm weight is folded into W_U.
    /// </summary>
    public Tensor LogitAttribution(Tensor residStack, Tensor answerTokens, Tensor? wrongTokens = null, int pos = -1)
    {
        var normed = ApplyLnToStack(residStack).select(2, pos); // [c, b, d]
        var wU = Model.unembed_W_U.detach() * Model.ln_final.w.detach().unsqueeze(1); // [d, V]
        var dir = wU.index_select(1, answerTokens.to(wU.device)).t(); // [b, d]
        if (wrongTokens is not null) dir = dir - wU.index_select(1, wrongTokens.to(wU.device)).t();
        return (normed * dir.unsqueeze(0)).sum(-1);
    }

    public void Dispose()
    {
        foreach (var t in _store.Values) t.Dispose();
        _store.Clear();
    }
}
