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
    /// Hooks that keep an activation beyond its block must take ownership (<c>MoveToOuterDisposeScope()</c> or
    /// <c>DetachFromDisposeScope()</c>): intermediates are disposed when their block ends.
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
        var x = Embed(tokens, attentionMask, out var geometry);
        return RunBlocks(x, geometry, 0, stopAtLayer, null);
    }

    /// <summary>
    /// Resumes a forward in the middle: runs blocks <paramref name="startLayer"/> … <paramref name="stopAtLayer"/> − 1
    /// (all remaining blocks when null) on <paramref name="residual"/> [batch, pos, d_model], the input of block
    /// <paramref name="startLayer"/> as <see cref="ForwardResidual"/> with <c>stopAtLayer = startLayer</c> returns it,
    /// i.e. before <c>blocks.{startLayer}.hook_resid_pre</c> runs. Every hook of the run blocks fires as in a full
    /// forward; hooks of earlier blocks and the embeddings do not. Returns the residual before ln_final.
    /// <paramref name="attentionMask"/> [batch, pos] must be the mask of the tokens that produced the residual
    /// (positions, and so rotary angles, come from it).
    /// </summary>
    public Tensor ForwardResidualFrom(Tensor residual, Tensor? attentionMask, int startLayer, int? stopAtLayer = null)
    {
        int stop = stopAtLayer ?? Config.NLayers;
        if (startLayer < 0 || startLayer > stop || stop > Config.NLayers)
            throw new ArgumentOutOfRangeException(nameof(startLayer),
                $"Layers {startLayer}..{stop} are outside 0..{Config.NLayers} (n_layers).");
        if (residual.dim() != 3 || residual.shape[2] != Config.DModel)
            throw new ArgumentException($"residual must be [batch, pos, {Config.DModel}], got [{string.Join(", ", residual.shape)}].", nameof(residual));
        long b = residual.shape[0], p = residual.shape[1];
        if (attentionMask is not null && (attentionMask.dim() != 2 || attentionMask.shape[0] != b || attentionMask.shape[1] != p))
            throw new ArgumentException(
                $"attentionMask shape [{string.Join(", ", attentionMask.shape)}] does not match the residual's [{b}, {p}].", nameof(attentionMask));
        var mask = attentionMask?.to(Device).to_type(ScalarType.Int64);
        return RunBlocks(residual.to(Device), Geometry(b, p, mask), startLayer, stop, null);
    }

    /// <summary>The input of every block, [0] … [n_layers − 1], and the final residual [n_layers], from one forward.</summary>
    internal Tensor[] BlockInputs(Tensor tokens, Tensor? attentionMask)
    {
        var inputs = new Tensor[Config.NLayers + 1];
        var x = Embed(tokens, attentionMask, out var geometry);
        inputs[Config.NLayers] = RunBlocks(x, geometry, 0, Config.NLayers, (l, input) => inputs[l] = input);
        return inputs;
    }

    /// <summary>What every block needs besides the residual: the attention mask (causal + padding) and rotary angles.</summary>
    private readonly record struct BlockGeometry(Tensor Masked, Tensor? Cos, Tensor? Sin);

    private BlockGeometry Geometry(long b, long p, Tensor? mask)
    {
        var causal = ones(p, p, dtype: ScalarType.Bool, device: Device).triu(1); // true above the diagonal
        var masked = causal.unsqueeze(0).unsqueeze(0);
        if (mask is not null) masked = masked.logical_or(mask.eq(0).unsqueeze(1).unsqueeze(1));
        if (!Config.Rotary) return new BlockGeometry(masked, null, null);
        var (cos, sin) = Blocks[0].attn.RotaryAngles(Positions(b, p, mask), DType);
        return new BlockGeometry(masked, cos, sin);
    }

    /// <summary>Token (+ learned position) embeddings, hooks included; also the geometry the blocks need.</summary>
    private Tensor Embed(Tensor tokens, Tensor? attentionMask, out BlockGeometry geometry)
    {
        if (tokens.dim() != 2)
            throw new ArgumentException($"tokens must be [batch, pos], got [{string.Join(", ", tokens.shape)}].", nameof(tokens));
        long b = tokens.shape[0], p = tokens.shape[1];
        if (!Config.Rotary && p > Config.NCtx)
            throw new ArgumentException($"Sequence length {p} exceeds n_ctx {Config.NCtx}.", nameof(tokens));
        if (Config.SlidingWindow is { } window && p > window)
            throw new ArgumentException($"Sequence length {p} exceeds the model's sliding_window {window}; sliding-window attention is not implemented, so longer inputs would be computed wrongly.", nameof(tokens));
        if (attentionMask is not null && !attentionMask.shape.SequenceEqual(tokens.shape))
            throw new ArgumentException(
                $"attentionMask shape [{string.Join(", ", attentionMask.shape)}] differs from tokens [{b}, {p}].", nameof(attentionMask));
        tokens = tokens.to(Device);
        var mask = attentionMask?.to(Device).to_type(ScalarType.Int64);
        geometry = Geometry(b, p, mask);
        var x = HookEmbed.Run(Lookup(embed_W_E, tokens));
        if (Config.Rotary) return x;
        return x + HookPosEmbed.Run(Lookup(pos_embed_W_pos!, Positions(b, p, mask)));
    }

    /// <summary>Position ids [b, p]: real tokens counted from 0 in each row (left padding shifts them).</summary>
    private Tensor Positions(long b, long p, Tensor? mask) => mask is null
        ? arange(p, dtype: ScalarType.Int64, device: Device).unsqueeze(0).expand(b, -1)
        : (mask.cumsum(1) - 1).clamp_min(0);

    /// <summary>
    /// Runs the blocks, freeing each block's intermediates (and, unless <paramref name="onBlockInput"/> keeps them, the
    /// residual it read) when the block ends: a forward then holds one block's working set instead of n_layers of them.
    /// Autograd keeps what a backward needs through its own references, so this is safe with gradients on; hooks that
    /// keep an activation take ownership of it (MoveToOuterDisposeScope / DetachFromDisposeScope) and are unaffected.
    /// </summary>
    private Tensor RunBlocks(Tensor x, BlockGeometry g, int start, int stop, Action<int, Tensor>? onBlockInput)
    {
        var scope = CurrentDisposeScope;
        for (int l = start; l < stop; l++)
        {
            onBlockInput?.Invoke(l, x);
            var before = scope is null ? null : new HashSet<IDisposable>(scope.DisposablesView, ReferenceEqualityComparer.Instance);
            var y = Blocks[l].Forward(x, g.Cos, g.Sin, g.Masked);
            if (before is not null)
            {
                bool dropInput = l > start && onBlockInput is null; // the previous block's output, read by this block only
                // DisposeEverythingBut makes its argument the scope's new content, so keep only what the scope still
                // owns: a tensor a hook moved out must not be pulled back in.
                scope!.DisposeEverythingBut(scope.DisposablesView
                    .Where(d => ReferenceEquals(d, y) || (before.Contains(d) && !(dropInput && ReferenceEquals(d, x))))
                    .ToList());
            }
            x = y;
        }
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
