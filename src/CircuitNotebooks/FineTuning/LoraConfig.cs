using System.Text.RegularExpressions;

namespace CircuitNotebooks.FineTuning;

/// <summary>Rank, α and optionally learning rate for every targeted linear map of one layer (a CircuitLoRA plan entry).</summary>
public sealed record LoraLayerSetting(int Rank, double Alpha, double? LearningRate = null);

/// <summary>
/// Which linear maps get LoRA adapters and how big. Target patterns match the short module name ("attn.W_Q") or,
/// when they start with "blocks.", the full TransformerLens name ("blocks.3.mlp.W_in"); '*' and '?' are wildcards.
/// A pattern starting with "re:" is a regular expression tried against both names.
/// </summary>
public sealed record LoraConfig
{
    /// <summary>Every linear of a block: the paper's LoRA baseline targets all linears but the unembedding.</summary>
    public static readonly IReadOnlyList<string> AllLinears =
        ["attn.W_Q", "attn.W_K", "attn.W_V", "attn.W_O", "mlp.W_in", "mlp.W_gate", "mlp.W_out"];

    public int Rank { get; init; } = 8;
    public double Alpha { get; init; } = 16;
    public double Dropout { get; init; }
    public IReadOnlyList<string> Targets { get; init; } = AllLinears;
    /// <summary>Layers to adapt; null = all.</summary>
    public IReadOnlyList<int>? Layers { get; init; }
    /// <summary>Per-layer rank/α (and learning rate) replacing the defaults, e.g. CircuitLoRA's critical layers.</summary>
    public IReadOnlyDictionary<int, LoraLayerSetting> LayerOverrides { get; init; } = new Dictionary<int, LoraLayerSetting>();
    /// <summary>Learning rate for adapters without a per-layer one; null = the trainer's.</summary>
    public double? LearningRate { get; init; }

    /// <summary>
    /// A CircuitLoRA-style config: every layer in <paramref name="plan"/> gets its own rank and α (and learning rate),
    /// other layers the defaults of this config.
    /// </summary>
    public LoraConfig WithLayerPlan(IEnumerable<KeyValuePair<int, LoraLayerSetting>> plan)
    {
        var overrides = new Dictionary<int, LoraLayerSetting>(LayerOverrides);
        foreach (var (layer, s) in plan) overrides[layer] = s;
        return this with { LayerOverrides = overrides };
    }

    /// <summary>Same as <see cref="WithLayerPlan(IEnumerable{KeyValuePair{int, LoraLayerSetting}})"/> from (layer → (rank, α)).</summary>
    public LoraConfig WithLayerPlan(IReadOnlyDictionary<int, (int Rank, double Alpha)> plan, double? learningRate = null) =>
        WithLayerPlan(plan.Select(kv => KeyValuePair.Create(kv.Key, new LoraLayerSetting(kv.Value.Rank, kv.Value.Alpha, learningRate))));

    public LoraLayerSetting SettingFor(int layer) =>
        LayerOverrides.TryGetValue(layer, out var s) ? s : new LoraLayerSetting(Rank, Alpha, LearningRate);

    /// <summary>Whether a module (short name, full name) is targeted.</summary>
    public bool IsTarget(int layer, string module)
    {
        if (Layers is not null && !Layers.Contains(layer)) return false;
        string full = $"blocks.{layer}.{module}";
        return Targets.Any(p => Matches(p, module, full));
    }

    private static bool Matches(string pattern, string shortName, string fullName)
    {
        if (pattern.StartsWith("re:", StringComparison.Ordinal))
        {
            var re = new Regex(pattern[3..], RegexOptions.CultureInvariant);
            return re.IsMatch(shortName) || re.IsMatch(fullName);
        }
        string name = pattern.StartsWith("blocks.", StringComparison.Ordinal) ? fullName : shortName;
        var glob = "^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$";
        return Regex.IsMatch(name, glob, RegexOptions.CultureInvariant);
    }

    public LoraConfig Validate()
    {
        void Check(int rank, double alpha, double? lr, string where)
        {
            if (rank <= 0) throw new ArgumentException($"LoraConfig: {where} rank must be positive, got {rank}.");
            if (!double.IsFinite(alpha) || alpha <= 0) throw new ArgumentException($"LoraConfig: {where} alpha must be positive, got {alpha}.");
            if (lr is double l && (!double.IsFinite(l) || l < 0)) throw new ArgumentException($"LoraConfig: {where} learning rate must be ≥ 0, got {l}.");
        }
        Check(Rank, Alpha, LearningRate, "default");
        foreach (var (l, s) in LayerOverrides) Check(s.Rank, s.Alpha, s.LearningRate, $"layer {l}");
        if (Dropout is < 0 or >= 1) throw new ArgumentException($"LoraConfig: Dropout must lie in [0, 1), got {Dropout}.");
        if (Targets.Count == 0) throw new ArgumentException("LoraConfig: Targets is empty.");
        foreach (var p in Targets.Where(p => p.StartsWith("re:", StringComparison.Ordinal)))
        {
            try { _ = new Regex(p[3..]); }
            catch (ArgumentException e) { throw new ArgumentException($"LoraConfig: target '{p}' is not a valid regex: {e.Message}", e); }
        }
        return this;
    }
}
