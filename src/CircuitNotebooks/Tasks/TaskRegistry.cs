namespace CircuitNotebooks.Tasks;

/// <summary>
/// Generators by name (case-insensitive). <see cref="Default"/> holds the paper's tasks with their default options;
/// a new registry can add variants (e.g. tiny-model ranges) under new names.
/// </summary>
public sealed class TaskRegistry
{
    private readonly Dictionary<string, Func<ITaskGenerator>> _factories = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A registry with every built-in task name.</summary>
    public static TaskRegistry Default => CreateDefault();

    public static TaskRegistry CreateDefault()
    {
        var r = new TaskRegistry();
        foreach (var n in new[] { 100, 200, 300, 400, 500 })
            r.Register($"addsub{n}", () => new AddSubGenerator(n));
        r.Register("muldiv", () => new MulDivGenerator());
        r.Register("arith-seq", () => new SequenceGenerator("arith-seq", new SequenceOptions()));
        r.Register("geo-seq", () => new SequenceGenerator("geo-seq", SequenceOptions.Geometric));
        r.Register("sequence", () => new SequenceGenerator("sequence",
            SequenceOptions.Geometric with { Kind = SequenceKind.Mixed, MaxTerm = 999 }));
        r.Register("lcm", () => new LcmGenerator());
        r.Register("function", () => new FunctionEvalGenerator());
        r.Register("composite", () => new CompositeGenerator("composite", CompositePart.Full, new CompositeOptions()));
        r.Register("composite-bracket", () => new CompositeGenerator("composite-bracket", CompositePart.Bracket, new CompositeOptions()));
        r.Register("composite-outer", () => new CompositeGenerator("composite-outer", CompositePart.Outer, new CompositeOptions()));
        r.Register("entity-tracking", () => new EntityTrackingGenerator());
        return r;
    }

    /// <summary>
    /// Dataset sizes used in the papers (Wang et al. 2025 table; entity tracking: Prakash et al.'s 500 evaluation
    /// examples). Names without an entry here have no paper size.
    /// </summary>
    public static IReadOnlyDictionary<string, int> PaperSizes { get; } = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase)
    {
        ["addsub100"] = 5000, ["addsub200"] = 5000, ["addsub300"] = 5000, ["addsub400"] = 5000, ["addsub500"] = 5000,
        ["muldiv"] = 2000, ["arith-seq"] = 5000, ["geo-seq"] = 5000, ["sequence"] = 5000, ["lcm"] = 2500,
        ["function"] = 5000, ["composite"] = 5000, ["composite-bracket"] = 5000, ["composite-outer"] = 5000,
        ["entity-tracking"] = 500,
    };

    /// <summary>Adds or replaces a generator factory.</summary>
    public TaskRegistry Register(string name, Func<ITaskGenerator> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _factories[name] = factory ?? throw new ArgumentNullException(nameof(factory));
        return this;
    }

    public IReadOnlyList<string> Names => _factories.Keys.Order(StringComparer.Ordinal).ToArray();

    public bool Contains(string name) => _factories.ContainsKey(name);

    /// <summary>A fresh generator for <paramref name="name"/>; unknown names throw, listing the valid ones.</summary>
    public ITaskGenerator Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_factories.TryGetValue(name, out var f)) return f();
        throw new KeyNotFoundException($"Unknown task \"{name}\". Valid task names: {string.Join(", ", Names)}.");
    }
}
