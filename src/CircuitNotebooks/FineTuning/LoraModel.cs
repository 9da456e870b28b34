using CircuitNotebooks.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CircuitNotebooks.FineTuning;

/// <summary>One attached adapter and the linear map it adapts.</summary>
public sealed record LoraModule(LinearModule Target, LoraAdapter Adapter)
{
    /// <summary>Names of A and B in adapter checkpoints: "blocks.{l}.attn.W_Q.lora_A".</summary>
    public string NameA => Target.Name + ".lora_A";
    public string NameB => Target.Name + ".lora_B";
}

/// <summary>Parameters sharing one learning rate (null = the trainer's).</summary>
public sealed record ParameterGroup(string Name, IReadOnlyList<(string Name, Parameter Param)> Parameters, double? LearningRate);

/// <summary>
/// LoRA adapters attached to a <see cref="HookedTransformer"/> through its adapter slots, with the base frozen.
/// Merge folds ΔW into the base weights (adapters leave the forward), Unmerge takes it out again, Detach removes the
/// adapters and restores the base parameters' trainability.
/// </summary>
public sealed partial class LoraModel : IDisposable
{
    private readonly Dictionary<Parameter, bool> _requiresGrad = new();
    private bool _training;

    private LoraModel(HookedTransformer model, LoraConfig config, IReadOnlyList<LoraModule> modules)
    {
        Model = model;
        Config = config;
        Modules = modules;
    }

    public HookedTransformer Model { get; }
    public LoraConfig Config { get; }
    public IReadOnlyList<LoraModule> Modules { get; }
    public bool IsMerged { get; private set; }
    public bool IsAttached { get; private set; }

    /// <summary>Freezes the base and attaches an adapter to every targeted linear; A is drawn from <paramref name="seed"/>.</summary>
    public static LoraModel Attach(HookedTransformer model, LoraConfig config, int seed)
    {
        config.Validate();
        var all = LinearModule.All(model);
        var targets = all.Where(m => config.IsTarget(m.Layer, m.Module)).ToList();
        if (targets.Count == 0)
            throw new ArgumentException(
                $"LoraConfig targets [{string.Join(", ", config.Targets)}] match no linear of this model; available: " +
                string.Join(", ", all.Where(m => m.Layer == 0).Select(m => m.Module)) + ".");
        foreach (var l in config.LayerOverrides.Keys.Concat(config.Layers ?? []))
            if (l < 0 || l >= model.Config.NLayers)
                throw new ArgumentException($"LoraConfig names layer {l}, but the model has {model.Config.NLayers} layers.");
        var busy = targets.Where(t => t.AdapterSlot.ContainsKey(t.Key)).Select(t => t.Name).ToList();
        if (busy.Count > 0) throw new InvalidOperationException($"Adapters already attached to: {string.Join(", ", busy)}.");

        var gen = new Generator((ulong)seed);
        var modules = targets.Select(t =>
        {
            var s = config.SettingFor(t.Layer);
            return new LoraModule(t, new LoraAdapter(t.DIn, t.DOut, s.Rank, s.Alpha, config.Dropout, gen, t.Weight.device, t.Weight.dtype));
        }).ToList();

        var lora = new LoraModel(model, config, modules);
        foreach (var (_, p) in model.NamedParameters())
        {
            lora._requiresGrad[p] = p.requires_grad;
            p.requires_grad = false;
        }
        lora.Insert();
        lora.IsAttached = true;
        return lora;
    }

    private Generator? _dropoutGenerator;

    /// <summary>
    /// Restarts the adapters' dropout masks from <paramref name="seed"/>. The trainer calls this every step, which makes
    /// a step's masks a function of (seed, step) alone, so resumed runs match uninterrupted ones exactly.
    /// </summary>
    public void ReseedDropout(long seed)
    {
        _dropoutGenerator ??= new Generator(0);
        _dropoutGenerator.manual_seed(seed);
        foreach (var m in Modules) m.Adapter.DropoutGenerator = _dropoutGenerator;
    }

    /// <summary>Dropout in the adapters is active only while training.</summary>
    public bool Training
    {
        get => _training;
        set
        {
            _training = value;
            foreach (var m in Modules) m.Adapter.Training = value;
        }
    }

    /// <summary>Every A and B under its checkpoint name.</summary>
    public IEnumerable<(string Name, Parameter Param)> TrainableParameters =>
        Modules.SelectMany(m => new[] { (m.NameA, m.Adapter.A), (m.NameB, m.Adapter.B) });

    /// <summary>Adapters grouped by learning rate: one group per distinct per-layer rate, the rest in "default".</summary>
    public IReadOnlyList<ParameterGroup> ParameterGroups =>
        Modules.GroupBy(m => Config.SettingFor(m.Target.Layer).LearningRate)
            .Select(g => new ParameterGroup(
                g.Key is double lr ? $"lr={lr:G4}" : "default",
                g.SelectMany(m => new[] { (m.NameA, m.Adapter.A), (m.NameB, m.Adapter.B) }).ToList(),
                g.Key))
            .ToList();

    /// <summary>Σ r·(d_in + d_out) over adapters.</summary>
    public long TrainableParameterCount => Modules.Sum(m => m.Adapter.ParameterCount);

    public long BaseParameterCount => Model.ParameterCount;

    /// <summary>Trainable adapter parameters / all base parameters (the paper's "trainable %" divided by 100).</summary>
    public double TrainableRatio => (double)TrainableParameterCount / BaseParameterCount;

    /// <summary>W += ΔW for every adapter (TransformerLens layout); the adapters leave the forward pass.</summary>
    public void Merge()
    {
        RequireAttached();
        if (IsMerged) throw new InvalidOperationException("LoRA adapters are already merged.");
        AddDeltas(+1);
        Remove();
        IsMerged = true;
    }

    /// <summary>Undoes <see cref="Merge"/>: W −= ΔW and the adapters return to the forward pass.</summary>
    public void Unmerge()
    {
        RequireAttached();
        if (!IsMerged) throw new InvalidOperationException("LoRA adapters are not merged.");
        AddDeltas(-1);
        Insert();
        IsMerged = false;
    }

    /// <summary>
    /// Removes the adapters from the model and restores each base parameter's trainability. A merged model keeps its
    /// merged weights (call <see cref="Unmerge"/> first to get the base back).
    /// </summary>
    public void Detach()
    {
        if (!IsAttached) return;
        if (!IsMerged) Remove();
        foreach (var (p, rg) in _requiresGrad) p.requires_grad = rg;
        IsAttached = false;
    }

    /// <summary>Copies of A and B (caller owns them), for adapter-only checkpoints.</summary>
    public Dictionary<string, Tensor> AdapterStateDict()
    {
        using var _ = no_grad();
        return TrainableParameters.ToDictionary(p => p.Name, p => p.Param.detach().clone().DetachFromDisposeScope());
    }

    /// <summary>Loads A and B; missing, unexpected or mis-shaped entries are all reported at once.</summary>
    public void LoadAdapterStateDict(IReadOnlyDictionary<string, Tensor> state, string source = "adapter state")
    {
        var expected = TrainableParameters.ToDictionary(p => p.Name, p => p.Param);
        var problems = new List<string>();
        foreach (var (name, p) in expected)
        {
            if (!state.TryGetValue(name, out var t)) problems.Add($"missing '{name}'");
            else if (!t.shape.SequenceEqual(p.shape))
                problems.Add($"'{name}' has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", p.shape)}]");
        }
        problems.AddRange(state.Keys.Where(k => !expected.ContainsKey(k)).Select(k => $"unexpected '{k}'"));
        if (problems.Count > 0) throw new StateDictMismatchException(source, problems);
        if (IsMerged) throw new InvalidOperationException("Unmerge before loading adapter weights.");
        using var _ = no_grad();
        foreach (var (name, p) in expected) p.copy_(state[name].to(p.dtype).to(p.device));
    }

    private void AddDeltas(int sign)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var m in Modules)
            m.Target.Weight.add_(m.Target.ToWeightLayout(m.Adapter.DeltaWeight()), alpha: sign);
    }

    private void Insert()
    {
        foreach (var m in Modules) m.Target.AdapterSlot[m.Target.Key] = m.Adapter;
    }

    private void Remove()
    {
        foreach (var m in Modules)
            if (m.Target.AdapterSlot.TryGetValue(m.Target.Key, out var a) && ReferenceEquals(a, m.Adapter))
                m.Target.AdapterSlot.Remove(m.Target.Key);
    }

    private void RequireAttached()
    {
        if (!IsAttached) throw new InvalidOperationException("LoRA adapters were detached.");
    }

    public void Dispose()
    {
        Detach();
        foreach (var m in Modules) m.Adapter.Dispose();
        _dropoutGenerator?.Dispose();
    }
}
