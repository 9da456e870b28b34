namespace CircuitNotebooks.Tests.Reference;

/// <summary>
/// Every intermediate of one naive forward pass, keyed by TransformerLens hook name with TransformerLens shapes
/// ([b,p,d] residuals, [b,p,h,dh] q/k/v/z, [b,h,q,k] scores/pattern, [b,p,h,d] result, [b,p,d_mlp] mlp pre/post),
/// so hook tests can compare a cached activation with the oracle by name.
/// </summary>
public sealed class NaiveTrace
{
    private readonly Dictionary<string, NaiveTensor> _hooks = new();

    public int NLayers { get; }
    public IReadOnlyDictionary<string, NaiveTensor> Hooks => _hooks;

    /// <summary>Logits [batch][pos][vocab].</summary>
    public double[][][] Logits { get; internal set; } = [];

    public NaiveTrace(int nLayers) => NLayers = nLayers;

    public NaiveTensor this[string hookName] => _hooks.TryGetValue(hookName, out var t) ? t
        : throw new KeyNotFoundException($"trace: no activation recorded for hook '{hookName}'");

    public bool Contains(string hookName) => _hooks.ContainsKey(hookName);

    // Convenience accessors for the values tests use most.
    public NaiveTensor Embed => this["hook_embed"];
    public NaiveTensor ResidPre(int layer) => this[$"blocks.{layer}.hook_resid_pre"];
    /// <summary>Only for sequential blocks; a parallel (NeoX) block has no resid_mid.</summary>
    public NaiveTensor ResidMid(int layer) => this[$"blocks.{layer}.hook_resid_mid"];
    public NaiveTensor ResidPost(int layer) => this[$"blocks.{layer}.hook_resid_post"];
    public NaiveTensor Pattern(int layer) => this[$"blocks.{layer}.attn.hook_pattern"];
    public NaiveTensor Z(int layer) => this[$"blocks.{layer}.attn.hook_z"];
    public NaiveTensor AttnOut(int layer) => this[$"blocks.{layer}.hook_attn_out"];
    public NaiveTensor MlpOut(int layer) => this[$"blocks.{layer}.hook_mlp_out"];
    public NaiveTensor FinalNormalized => this["ln_final.hook_normalized"];

    /// <summary>Gets the named activation, creating it zero-filled with <paramref name="shape"/> on first use.</summary>
    internal NaiveTensor Slot(string hookName, params int[] shape)
    {
        if (!_hooks.TryGetValue(hookName, out var t))
            _hooks[hookName] = t = NaiveTensor.Zeros(shape);
        return t;
    }
}
