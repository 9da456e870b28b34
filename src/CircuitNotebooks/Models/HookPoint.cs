using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>Returns a replacement activation, or null to leave it unchanged (read-only hooks such as caching).</summary>
public delegate Tensor? HookFunction(Tensor activation, HookPoint hook);

/// <summary>
/// A named identity in the forward pass (TransformerLens' HookPoint). With no hooks attached it returns its input
/// untouched, so an unhooked forward costs one list check per point. Hooks are removed by disposing the handle
/// <see cref="Add"/> returns; hooks run in the order they were added.
/// </summary>
public sealed class HookPoint
{
    private readonly List<(long Id, HookFunction Fn)> _hooks = new();
    private static long _nextId;

    public HookPoint(string name, int layer = -1)
    {
        Name = name;
        Layer = layer;
    }

    /// <summary>TransformerLens name, e.g. <c>blocks.3.attn.hook_z</c>.</summary>
    public string Name { get; }
    /// <summary>Block index, or -1 for points outside the blocks (embeddings, final norm).</summary>
    public int Layer { get; }
    public int HookCount => _hooks.Count;

    public IDisposable Add(HookFunction fn)
    {
        var id = Interlocked.Increment(ref _nextId);
        _hooks.Add((id, fn));
        return new Handle(() => _hooks.RemoveAll(h => h.Id == id));
    }

    public void Clear() => _hooks.Clear();

    /// <summary>Passes the activation through every hook; the forward pass calls this.</summary>
    public Tensor Run(Tensor x)
    {
        if (_hooks.Count == 0) return x;
        // Copy: a hook may add or remove hooks while running.
        foreach (var (_, fn) in _hooks.ToArray())
        {
            var replaced = fn(x, this);
            if (replaced is null) continue;
            if (!replaced.shape.SequenceEqual(x.shape))
                throw new InvalidOperationException(
                    $"Hook on '{Name}' returned shape [{string.Join(", ", replaced.shape)}], expected [{string.Join(", ", x.shape)}].");
            x = replaced;
        }
        return x;
    }

    public override string ToString() => Name;

    private sealed class Handle(Action remove) : IDisposable
    {
        private Action? _remove = remove;
        public void Dispose() => Interlocked.Exchange(ref _remove, null)?.Invoke();
    }
}
