using CircuitNotebooks.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Hooks;

/// <summary>Scoped hook helpers (TransformerLens' run_with_hooks / run_with_cache / hooks context).</summary>
public static class HookRunner
{
    /// <summary>Adds <paramref name="fn"/> to every active hook point whose name passes the filter; dispose to remove all.</summary>
    public static IDisposable AddHooks(this HookedTransformer model, Func<string, bool> filter, HookFunction fn)
    {
        var handles = model.HookPoints.Where(h => filter(h.Name)).Select(h => h.Add(fn)).ToList();
        return new CompositeDisposable(handles);
    }

    /// <summary>Adds hooks by exact name; dispose to remove all.</summary>
    public static IDisposable AddHooks(this HookedTransformer model, IEnumerable<(string Name, HookFunction Fn)> hooks) =>
        new CompositeDisposable(hooks.Select(h => model.Hook(h.Name).Add(h.Fn)).ToList());

    /// <summary>Runs a forward with the hooks attached, removing them afterwards even if the forward throws.</summary>
    public static Tensor RunWithHooks(this HookedTransformer model, Tensor tokens,
        IEnumerable<(string Name, HookFunction Fn)> hooks, Tensor? attentionMask = null)
    {
        using var _ = model.AddHooks(hooks);
        return model.Forward(tokens, attentionMask);
    }

    /// <summary>
    /// Forward pass recording every active hook point that passes <paramref name="namesFilter"/> (all when null).
    /// With <paramref name="backwardMetric"/> (logits → scalar), also records the gradient of the metric with respect
    /// to each recorded activation under "name_grad"; otherwise the forward runs without autograd.
    /// </summary>
    public static (Tensor Logits, ActivationCache Cache) RunWithCache(this HookedTransformer model, Tensor tokens,
        Func<string, bool>? namesFilter = null, Tensor? attentionMask = null, Func<Tensor, Tensor>? backwardMetric = null)
    {
        var filter = namesFilter ?? (_ => true);
        var store = new Dictionary<string, Tensor>();
        bool backward = backwardMetric is not null;
        using var scope = NewDisposeScope();
        using var grad = backward ? enable_grad() : no_grad();
        var live = new List<(string Name, Tensor Act)>();
        Tensor logits;
        using (model.AddHooks(filter, (act, hook) =>
               {
                   if (backward) live.Add((hook.Name, act.MoveToOuterDisposeScope()));
                   store[hook.Name] = act.detach().clone().DetachFromDisposeScope();
                   return null;
               }))
        {
            if (backward && !model.embed_W_E.requires_grad)
                throw new InvalidOperationException("Backward caching needs the model's parameters to require grad.");
            logits = model.Forward(tokens, attentionMask);
        }

        if (backward)
        {
            var metric = backwardMetric!(logits);
            if (metric.numel() != 1)
                throw new ArgumentException($"The backward metric must return a scalar, got shape [{string.Join(", ", metric.shape)}].");
            var grads = autograd.grad([metric], live.Select(l => l.Act).ToList(), allow_unused: true);
            for (int i = 0; i < live.Count; i++)
            {
                var g = grads[i];
                store[live[i].Name + "_grad"] = (g is null || g.IsInvalid ? zeros_like(live[i].Act) : g.detach().clone()).DetachFromDisposeScope();
            }
        }
        return (logits.detach().MoveToOuterDisposeScope(), new ActivationCache(model, store));
    }

    private sealed class CompositeDisposable(IReadOnlyList<IDisposable> items) : IDisposable
    {
        private int _done;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 1) return;
            foreach (var i in items) i.Dispose();
        }
    }
}
