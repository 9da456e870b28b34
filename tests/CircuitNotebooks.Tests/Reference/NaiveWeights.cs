using CircuitNotebooks.Models;
using TorchSharp;

namespace CircuitNotebooks.Tests.Reference;

/// <summary>
/// A model's parameters as plain double arrays under TransformerLens names and shapes (contracts.md, "Model state
/// dict convention"). The oracle reads only this; TorchSharp appears only in the conversion helpers.
/// </summary>
public sealed class NaiveWeights
{
    private readonly Dictionary<string, NaiveTensor> _params;

    public NaiveWeights(Dictionary<string, NaiveTensor> parameters) => _params = parameters;

    public IReadOnlyDictionary<string, NaiveTensor> Parameters => _params;
    public IEnumerable<string> Names => _params.Keys;
    public bool Contains(string name) => _params.ContainsKey(name);

    public NaiveTensor this[string name]
    {
        get => _params.TryGetValue(name, out var t) ? t
            : throw new KeyNotFoundException($"weights: parameter '{name}' is missing");
        set => _params[name] = value;
    }

    /// <summary>Every parameter the config implies, in a fixed order, with its TransformerLens shape.</summary>
    public static List<(string Name, int[] Shape)> ExpectedShapes(ModelConfig cfg)
    {
        int d = cfg.DModel, h = cfg.NHeads, kv = cfg.KvHeads, dh = cfg.DHead, m = cfg.DMlp, v = cfg.DVocab;
        bool ln = cfg.Norm == NormKind.LayerNorm;
        var list = new List<(string, int[])> { ("embed.W_E", [v, d]) };
        if (!cfg.Rotary) list.Add(("pos_embed.W_pos", [cfg.NCtx, d]));
        for (int l = 0; l < cfg.NLayers; l++)
        {
            string p = $"blocks.{l}.";
            list.Add((p + "ln1.w", [d]));
            if (ln) list.Add((p + "ln1.b", [d]));
            list.Add((p + "ln2.w", [d]));
            if (ln) list.Add((p + "ln2.b", [d]));
            list.Add((p + "attn.W_Q", [h, d, dh]));
            list.Add((p + "attn.W_K", [kv, d, dh]));
            list.Add((p + "attn.W_V", [kv, d, dh]));
            list.Add((p + "attn.W_O", [h, dh, d]));
            if (cfg.AttnBias)
            {
                list.Add((p + "attn.b_Q", [h, dh]));
                list.Add((p + "attn.b_K", [kv, dh]));
                list.Add((p + "attn.b_V", [kv, dh]));
                if (cfg.AttnOutBias) list.Add((p + "attn.b_O", [d]));
            }
            list.Add((p + "mlp.W_in", [d, m]));
            if (cfg.GatedMlp) list.Add((p + "mlp.W_gate", [d, m]));
            list.Add((p + "mlp.W_out", [m, d]));
            if (cfg.MlpBias)
            {
                list.Add((p + "mlp.b_in", [m]));
                list.Add((p + "mlp.b_out", [d]));
            }
        }
        list.Add(("ln_final.w", [d]));
        if (ln) list.Add(("ln_final.b", [d]));
        list.Add(("unembed.W_U", [d, v]));
        list.Add(("unembed.b_U", [v]));
        return list;
    }

    /// <summary>Throws naming the parameter when one is missing, unexpected or mis-shaped for <paramref name="cfg"/>.</summary>
    public void Validate(ModelConfig cfg)
    {
        var expected = ExpectedShapes(cfg);
        foreach (var (name, shape) in expected)
        {
            if (!_params.TryGetValue(name, out var t))
                throw new InvalidDataException($"weights: parameter '{name}' [{string.Join(", ", shape)}] is missing for {cfg.Fingerprint}");
            if (!t.Shape.SequenceEqual(shape))
                throw new InvalidDataException(
                    $"weights: parameter '{name}' has shape {t.ShapeString}, expected [{string.Join(", ", shape)}]");
        }
        var known = expected.Select(e => e.Name).ToHashSet();
        foreach (var name in _params.Keys)
            if (!known.Contains(name))
                throw new InvalidDataException($"weights: unexpected parameter '{name}' for {cfg.Fingerprint}");
    }

    /// <summary>
    /// Deterministic random weights for every parameter of <paramref name="cfg"/>: matrices and biases ~ N(0, scale²),
    /// norm weights 1 + N(0, scale²) so they stay near 1. Biases are nonzero on purpose so they are exercised.
    /// Tied embeddings get W_U = W_Eᵀ.
    /// </summary>
    public static NaiveWeights Random(ModelConfig cfg, int seed, double scale = 0.1)
    {
        cfg.Validate("NaiveWeights.Random");
        var rng = new System.Random(seed);
        double Normal()
        {
            // Box–Muller; 1 − NextDouble() avoids log(0).
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        var dict = new Dictionary<string, NaiveTensor>();
        foreach (var (name, shape) in ExpectedShapes(cfg))
        {
            var t = NaiveTensor.Zeros(shape);
            bool normWeight = name.EndsWith("ln1.w") || name.EndsWith("ln2.w") || name == "ln_final.w";
            for (int i = 0; i < t.Data.Length; i++) t.Data[i] = (normWeight ? 1.0 : 0.0) + scale * Normal();
            dict[name] = t;
        }
        if (cfg.TiedEmbeddings)
        {
            var we = dict["embed.W_E"];
            var wu = dict["unembed.W_U"];
            for (int tok = 0; tok < cfg.DVocab; tok++)
                for (int i = 0; i < cfg.DModel; i++)
                    wu[i, tok] = we[tok, i];
        }
        return new NaiveWeights(dict);
    }

    public NaiveWeights Clone() => new(_params.ToDictionary(kv => kv.Key, kv => kv.Value.Clone()));

    /// <summary>float32 CPU tensors with the listed shapes, for HookedTransformer.LoadStateDict. The caller owns them.</summary>
    public Dictionary<string, torch.Tensor> ToFloatTensors()
    {
        var result = new Dictionary<string, torch.Tensor>();
        foreach (var (name, t) in _params)
        {
            var f = new float[t.Data.Length];
            for (int i = 0; i < f.Length; i++) f[i] = (float)t.Data[i];
            result[name] = torch.tensor(f, t.Shape.Select(s => (long)s).ToArray(), dtype: torch.float32, device: torch.CPU);
        }
        return result;
    }

    /// <summary>Copies any-dtype tensors (e.g. model.StateDict()) to doubles; the tensors are not disposed.</summary>
    public static NaiveWeights FromTensors(IReadOnlyDictionary<string, torch.Tensor> tensors)
    {
        var dict = new Dictionary<string, NaiveTensor>();
        foreach (var (name, tensor) in tensors)
        {
            using var scope = torch.NewDisposeScope();
            var d = tensor.detach().to(torch.CPU).to_type(torch.float64).contiguous();
            var shape = tensor.shape.Select(s => checked((int)s)).ToArray();
            dict[name] = new NaiveTensor(d.data<double>().ToArray(), shape);
        }
        return new NaiveWeights(dict);
    }
}
