using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>
/// Takes tensors out of a state dict by name while collecting every problem (missing, wrong shape, left over),
/// so one exception can report them all instead of failing on the first.
/// </summary>
internal sealed class StateDictReader(IReadOnlyDictionary<string, Tensor> source, string what)
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly List<string> _problems = [];

    public bool Has(string name) => source.ContainsKey(name);

    /// <summary>The tensor if present with exactly <paramref name="shape"/>; otherwise records why and returns null.</summary>
    public Tensor? Take(string name, params long[] shape)
    {
        if (!source.TryGetValue(name, out var t))
        {
            _problems.Add($"missing '{name}' (expected shape [{string.Join(", ", shape)}])");
            return null;
        }
        _used.Add(name);
        if (!t.shape.SequenceEqual(shape))
        {
            _problems.Add($"'{name}' has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", shape)}]");
            return null;
        }
        return t;
    }

    /// <summary>Marks a tensor as consumed without using it (e.g. a tied lm_head duplicate).</summary>
    public void Skip(string name) => _used.Add(name);

    public void Problem(string message) => _problems.Add(message);

    /// <summary>Throws if anything went wrong or any tensor was neither used nor <paramref name="ignorable"/>.</summary>
    public void ThrowIfProblems(Func<string, bool>? ignorable = null)
    {
        foreach (var name in source.Keys.Where(k => !_used.Contains(k) && !(ignorable?.Invoke(k) ?? false)).Order(StringComparer.Ordinal))
            _problems.Add($"unexpected '{name}'");
        if (_problems.Count > 0) throw new WeightMappingException(what, _problems);
    }
}
