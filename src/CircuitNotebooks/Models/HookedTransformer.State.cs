using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

public sealed partial class HookedTransformer
{
    /// <summary>Parameters under TransformerLens names (see the state-dict convention in the docs), in a fixed order.</summary>
    public IEnumerable<(string Name, Parameter Param)> NamedParameters()
    {
        yield return ("embed.W_E", embed_W_E);
        if (pos_embed_W_pos is not null) yield return ("pos_embed.W_pos", pos_embed_W_pos);
        foreach (var b in Blocks)
        {
            string p = $"blocks.{b.Layer}.";
            yield return (p + "ln1.w", b.ln1.w);
            if (b.ln1.b is not null) yield return (p + "ln1.b", b.ln1.b);
            yield return (p + "ln2.w", b.ln2.w);
            if (b.ln2.b is not null) yield return (p + "ln2.b", b.ln2.b);
            var a = b.attn;
            yield return (p + "attn.W_Q", a.W_Q);
            yield return (p + "attn.W_K", a.W_K);
            yield return (p + "attn.W_V", a.W_V);
            yield return (p + "attn.W_O", a.W_O);
            if (a.b_Q is not null) yield return (p + "attn.b_Q", a.b_Q);
            if (a.b_K is not null) yield return (p + "attn.b_K", a.b_K);
            if (a.b_V is not null) yield return (p + "attn.b_V", a.b_V);
            if (a.b_O is not null) yield return (p + "attn.b_O", a.b_O);
            var m = b.mlp;
            yield return (p + "mlp.W_in", m.W_in);
            if (m.W_gate is not null) yield return (p + "mlp.W_gate", m.W_gate);
            yield return (p + "mlp.W_out", m.W_out);
            if (m.b_in is not null) yield return (p + "mlp.b_in", m.b_in);
            if (m.b_out is not null) yield return (p + "mlp.b_out", m.b_out);
        }
        yield return ("ln_final.w", ln_final.w);
        if (ln_final.b is not null) yield return ("ln_final.b", ln_final.b);
        yield return ("unembed.W_U", unembed_W_U);
        yield return ("unembed.b_U", unembed_b_U);
    }

    /// <summary>Detached copies of every parameter under TransformerLens names (caller owns the tensors).</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        using var _ = no_grad();
        return NamedParameters().ToDictionary(p => p.Name, p => p.Param.detach().clone().DetachFromDisposeScope());
    }

    /// <summary>
    /// Copies tensors into the parameters (converting dtype and device). Missing, unexpected and mis-shaped entries
    /// are all reported in one <see cref="StateDictMismatchException"/>; nothing is copied unless everything fits.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, string source = "state dict")
    {
        var expected = NamedParameters().ToDictionary(p => p.Name, p => p.Param);
        var problems = new List<string>();
        foreach (var (name, param) in expected)
        {
            if (!state.TryGetValue(name, out var t)) problems.Add($"missing '{name}' [{Shape(param)}]");
            else if (!t.shape.SequenceEqual(param.shape)) problems.Add($"'{name}' has shape [{Shape(t)}], expected [{Shape(param)}]");
        }
        foreach (var name in state.Keys.Where(k => !expected.ContainsKey(k))) problems.Add($"unexpected '{name}'");
        if (problems.Count > 0) throw new StateDictMismatchException(source, problems);
        using var _ = no_grad();
        foreach (var (name, param) in expected) param.copy_(state[name].to(param.dtype).to(param.device));
    }

    private static string Shape(Tensor t) => string.Join(", ", t.shape);

    /// <summary>
    /// Random initialisation in the GPT-2 style (normal σ = initRange, output projections scaled by 1/√(2·n_layers),
    /// norms at 1, biases 0), reproducible from <paramref name="seed"/>.
    /// </summary>
    public HookedTransformer InitWeights(int seed, double initRange = 0.02)
    {
        using var _ = no_grad();
        var gen = new Generator((ulong)seed);
        double outStd = initRange / Math.Sqrt(2.0 * Config.NLayers);
        foreach (var (name, p) in NamedParameters())
        {
            if (name.EndsWith(".w")) p.fill_(1.0);
            else if (name.Contains(".b_") || name.EndsWith(".b")) p.zero_();
            else
            {
                double std = name.EndsWith("W_O") || name.EndsWith("W_out") ? outStd : initRange;
                // Every temporary freed now: left to the finalizer, a 1.4B model's draws would double its memory.
                using var scope = NewDisposeScope();
                p.copy_((randn(p.shape, dtype: ScalarType.Float32, generator: gen) * std).to(p.dtype).to(p.device));
            }
        }
        return this;
    }

    /// <summary>A randomly initialised model (tests, from-scratch training).</summary>
    public static HookedTransformer Create(ModelConfig config, int seed, Device? device = null, ScalarType dtype = ScalarType.Float32) =>
        new HookedTransformer(config, device, dtype).InitWeights(seed);
}

/// <summary>A state dict did not fit the model; lists every missing, unexpected and mis-shaped tensor.</summary>
public sealed class StateDictMismatchException(string source, IReadOnlyList<string> problems)
    : Exception($"{source} does not fit the model ({problems.Count} problem(s)): {string.Join("; ", problems)}")
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
