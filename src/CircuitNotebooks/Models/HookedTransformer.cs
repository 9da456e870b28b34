using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>
/// A decoder-only transformer with TransformerLens hook points, for GPT-2, GPT-NeoX/Pythia and Llama-family models.
/// One class; the architecture differences (norm, position encoding, parallel residual, gated MLP, GQA) live in
/// <see cref="ModelConfig"/> flags read by the shared parts.
/// </summary>
public sealed partial class HookedTransformer : nn.Module
{
    private readonly Dictionary<string, HookPoint> _hookIndex = new();

    public HookedTransformer(ModelConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32)
        : base("HookedTransformer")
    {
        Config = config.Validate();
        Options = new ModelOptions();
        embed_W_E = new Parameter(zeros(config.DVocab, config.DModel));
        register_parameter("embed_W_E", embed_W_E);
        if (!config.Rotary)
        {
            pos_embed_W_pos = new Parameter(zeros(config.NCtx, config.DModel));
            register_parameter("pos_embed_W_pos", pos_embed_W_pos);
        }
        Blocks = Enumerable.Range(0, config.NLayers).Select(l => new TransformerBlock(config, Options, l)).ToArray();
        register_module("blocks", new TorchSharp.Modules.ModuleList<TransformerBlock>(Blocks));
        ln_final = new Norm("ln_final", config.Norm, config.DModel, config.NormEps, -1);
        register_module("ln_final", ln_final);
        unembed_W_U = new Parameter(zeros(config.DModel, config.DVocab));
        unembed_b_U = new Parameter(zeros(config.DVocab));
        register_parameter("unembed_W_U", unembed_W_U);
        register_parameter("unembed_b_U", unembed_b_U);
        HookEmbed = new HookPoint("hook_embed");
        HookPosEmbed = new HookPoint("hook_pos_embed");
        Device = device ?? CPU;
        DType = dtype;
        if (Device.type != DeviceType.CPU || dtype != ScalarType.Float32) this.to(Device, dtype);
    }

    public ModelConfig Config { get; }
    public ModelOptions Options { get; }
    public Device Device { get; private set; }
    public ScalarType DType { get; private set; }
    public ITokenizer? Tokenizer { get; set; }

    public Parameter embed_W_E { get; private set; }
    public Parameter? pos_embed_W_pos { get; private set; }
    public TransformerBlock[] Blocks { get; }
    public Norm ln_final { get; }
    public Parameter unembed_W_U { get; private set; }
    public Parameter unembed_b_U { get; private set; }
    public HookPoint HookEmbed { get; }
    public HookPoint HookPosEmbed { get; }

    /// <summary>Every hook point active under the current <see cref="Options"/>, in forward order.</summary>
    public IEnumerable<HookPoint> HookPoints
    {
        get
        {
            yield return HookEmbed;
            if (!Config.Rotary) yield return HookPosEmbed;
            foreach (var b in Blocks)
            foreach (var h in b.HookPoints)
                yield return h;
            yield return ln_final.HookScale;
            yield return ln_final.HookNormalized;
        }
    }

    /// <summary>Looks a hook point up by its TransformerLens name; unknown names list close matches.</summary>
    public HookPoint Hook(string name)
    {
        if (_hookIndex.Count == 0) IndexAllHooks();
        if (_hookIndex.TryGetValue(name, out var h)) return h;
        var similar = _hookIndex.Keys.Where(k => k.EndsWith(name.Split('.').Last(), StringComparison.Ordinal)).Take(5);
        throw new KeyNotFoundException($"No hook point named '{name}'. Similar: {string.Join(", ", similar)}.");
    }

    private void IndexAllHooks()
    {
        void Add(HookPoint h) => _hookIndex[h.Name] = h;
        Add(HookEmbed);
        Add(HookPosEmbed);
        foreach (var b in Blocks)
        {
            foreach (var h in new[] { b.HookResidPre, b.HookResidMid, b.HookResidPost, b.HookQInput, b.HookKInput, b.HookVInput,
                         b.HookAttnIn, b.HookAttnOut, b.HookMlpIn, b.HookMlpOut, b.ln1.HookScale, b.ln1.HookNormalized,
                         b.ln2.HookScale, b.ln2.HookNormalized })
                Add(h);
            foreach (var h in b.attn.HookPoints) Add(h);
            Add(b.mlp.HookPre);
            Add(b.mlp.HookPreLinear);
            Add(b.mlp.HookPost);
        }
        Add(ln_final.HookScale);
        Add(ln_final.HookNormalized);
    }

    /// <summary>Clears every hook on every point (also those from handles not yet disposed).</summary>
    public void ResetHooks()
    {
        if (_hookIndex.Count == 0) IndexAllHooks();
        foreach (var h in _hookIndex.Values) h.Clear();
    }

    /// <summary>
    /// Logits [batch, pos, d_vocab] for tokens [batch, pos] (int64). attentionMask [batch, pos] (1 = real token)
    /// handles left or right padding: padded keys are masked and positions count real tokens only.
    /// Hooks that keep an activation beyond the call must take ownership (<c>MoveToOuterDisposeScope()</c> or
    /// <c>DetachFromDisposeScope()</c>): intermediates are disposed when the forward returns.
    /// </summary>
    public Tensor Forward(Tensor tokens, Tensor? attentionMask = null)
    {
        using var scope = NewDisposeScope();
        var resid = ForwardResidual(tokens, attentionMask, Config.NLayers);
        var logits = Unembed(ln_final.Forward(resid));
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>The residual stream after <paramref name="stopAtLayer"/> blocks (before ln_final).</summary>
    public Tensor ForwardResidual(Tensor tokens, Tensor? attentionMask, int stopAtLayer)
    {
        if (tokens.dim() != 2)
            throw new ArgumentException($"tokens must be [batch, pos], got [{string.Join(", ", tokens.shape)}].", nameof(tokens));
        long b = tokens.shape[0], p = tokens.shape[1];
        if (!Config.Rotary && p > Config.NCtx)
            throw new ArgumentException($"Sequence length {p} exceeds n_ctx {Config.NCtx}.", nameof(tokens));
        if (attentionMask is not null && !attentionMask.shape.SequenceEqual(tokens.shape))
            throw new ArgumentException(
                $"attentionMask shape [{string.Join(", ", attentionMask.shape)}] differs from tokens [{b}, {p}].", nameof(attentionMask));
        tokens = tokens.to(Device);
        var mask = attentionMask?.to(Device).to_type(ScalarType.Int64);
        var positions = mask is null
            ? arange(p, dtype: ScalarType.Int64, device: Device).unsqueeze(0).expand(b, -1)
            : (mask.cumsum(1) - 1).clamp_min(0);

        var causal = ones(p, p, dtype: ScalarType.Bool, device: Device).triu(1); // true above the diagonal
        var masked = causal.unsqueeze(0).unsqueeze(0);
        if (mask is not null) masked = masked.logical_or(mask.eq(0).unsqueeze(1).unsqueeze(1));

        var x = HookEmbed.Run(Lookup(embed_W_E, tokens));
        Tensor? cos = null, sin = null;
        if (Config.Rotary)
            (cos, sin) = Blocks[0].attn.RotaryAngles(positions, DType);
        else
            x = x + HookPosEmbed.Run(Lookup(pos_embed_W_pos!, positions));

        for (int l = 0; l < stopAtLayer; l++) x = Blocks[l].Forward(x, cos, sin, masked);
        return x;
    }

    private static Tensor Lookup(Tensor table, Tensor ids) =>
        table.index_select(0, ids.reshape(-1)).reshape(ids.shape[0], ids.shape[1], table.shape[1]);

    /// <summary>Normalised final residual [.., d_model] → logits [.., d_vocab].</summary>
    public Tensor Unembed(Tensor normalized) => normalized.matmul(unembed_W_U) + unembed_b_U;

    /// <summary>Moves parameters (and all later computation) to a device and dtype together.</summary>
    public HookedTransformer MoveTo(Device device, ScalarType? dtype = null)
    {
        var dt = dtype ?? DType;
        this.to(device, dt);
        Device = device;
        DType = dt;
        return this;
    }

    public long ParameterCount => parameters().Sum(p => p.numel());
}
