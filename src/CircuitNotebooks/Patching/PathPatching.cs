using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Patching;

/// <summary>A sender head whose output is taken from the counterfactual run (at one position, or all when null).</summary>
public sealed record Sender(int Layer, int Head, int? Position = null);

public enum ReceiverInput { Q, K, V, Logits }

/// <summary>
/// A receiver: one head's query, key or value input (its own copy of the residual stream, hook_q_input etc.), or the
/// final residual feeding the unembedding (Input = Logits; Layer and Head ignored). Position null = all positions.
/// </summary>
public sealed record Receiver(int Layer, int Head, ReceiverInput Input, int? Position = null)
{
    public static Receiver Logits(int? position = null) => new(-1, -1, ReceiverInput.Logits, position);
}

public sealed record PathPatchingOptions
{
    /// <summary>Freeze MLP outputs at clean values in the sender pass too (only heads otherwise). Default true: the
    /// effect then travels only along direct sender → receiver paths.</summary>
    public bool FreezeMlps { get; init; } = true;
    /// <summary>Sender sets evaluated per forward (the batch is repeated, rows never interact).</summary>
    public int CopiesPerForward { get; init; } = 16;
    public IProgress<int>? Progress { get; init; }
    public CancellationToken Cancellation { get; init; }
}

/// <summary>
/// Path patching (Wang et al. IOI; Prakash et al. entity tracking). Pass 1: run the clean prompt with
/// every head's output (hook_z) and optionally every MLP output frozen at its clean value, except the senders, which
/// take the counterfactual run's value; record the receivers' inputs. Pass 2: run the clean prompt again adding to each
/// receiver's input the change pass 1 made to it (everything else recomputed) and read the metric. With frozen MLPs this
/// is exactly edge patching of the sender → receiver edges.
/// </summary>
public static class PathPatching
{
    /// <summary>Metric after patching the paths from <paramref name="senders"/> to <paramref name="receivers"/>.</summary>
    public static double Run(HookedTransformer model, Tensor clean, Tensor counterfactual, IReadOnlyList<Sender> senders,
        IReadOnlyList<Receiver> receivers, Metric metric, Tensor? attentionMask = null, PathPatchingOptions? options = null) =>
        RunMany(model, clean, counterfactual, [senders], receivers, metric, attentionMask, options)[0];

    /// <summary>[n_layers, n_heads]: the metric when each single head (at <paramref name="senderPosition"/>) is the sender.</summary>
    public static double[,] SenderSweep(HookedTransformer model, Tensor clean, Tensor counterfactual, IReadOnlyList<Receiver> receivers,
        Metric metric, Tensor? attentionMask = null, int? senderPosition = null, PathPatchingOptions? options = null)
    {
        int L = model.Config.NLayers, H = model.Config.NHeads;
        var sets = new List<IReadOnlyList<Sender>>();
        for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
            sets.Add([new Sender(l, h, senderPosition)]);
        var v = RunMany(model, clean, counterfactual, sets, receivers, metric, attentionMask, options);
        var grid = new double[L, H];
        for (int i = 0; i < v.Length; i++) grid[i / H, i % H] = v[i];
        return grid;
    }

    /// <summary>One metric per sender set; sets share forwards (the batch is repeated once per set).</summary>
    public static double[] RunMany(HookedTransformer model, Tensor clean, Tensor counterfactual, IReadOnlyList<IReadOnlyList<Sender>> senderSets,
        IReadOnlyList<Receiver> receivers, Metric metric, Tensor? attentionMask = null, PathPatchingOptions? options = null)
    {
        options ??= new PathPatchingOptions();
        if (!clean.shape.SequenceEqual(counterfactual.shape))
            throw new ArgumentException($"Clean [{string.Join(", ", clean.shape)}] and counterfactual [{string.Join(", ", counterfactual.shape)}] " +
                                        "tokens differ in shape: path patching needs aligned prompts.");
        if (receivers.Count == 0) throw new ArgumentException("No receivers.", nameof(receivers));
        var cfg = model.Config;
        foreach (var s in senderSets.SelectMany(x => x))
            if (s.Layer < 0 || s.Layer >= cfg.NLayers || s.Head < 0 || s.Head >= cfg.NHeads)
                throw new ArgumentOutOfRangeException(nameof(senderSets), $"Sender {s} is outside the model ({cfg.NLayers} layers × {cfg.NHeads} heads).");
        foreach (var r in receivers)
            if (r.Input != ReceiverInput.Logits && (r.Layer < 0 || r.Layer >= cfg.NLayers || r.Head < 0 || r.Head >= cfg.NHeads))
                throw new ArgumentOutOfRangeException(nameof(receivers), $"Receiver {r} is outside the model.");

        bool split = model.Options.UseSplitQkvInput;
        // Per-head q/k/v inputs cost a copy of the residual per head; only head receivers need them.
        model.Options.UseSplitQkvInput = split || receivers.Any(r => r.Input != ReceiverInput.Logits);
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var receiverHooks = receivers.Select(r => ReceiverHook(model, r)).ToHashSet();
            bool Keep(string n) => n.EndsWith("attn.hook_z") || n.EndsWith("hook_mlp_out");
            var (cl, cleanCache) = model.RunWithCache(clean, n => Keep(n) || receiverHooks.Contains(n), attentionMask);
            var (cf, cfCache) = model.RunWithCache(counterfactual, Keep, attentionMask);
            using (cleanCache)
            using (cfCache)
            {
                var results = new double[senderSets.Count];
                int G = Math.Max(1, options.CopiesPerForward);
                for (int start = 0; start < senderSets.Count; start += G)
                {
                    options.Cancellation.ThrowIfCancellationRequested();
                    using var inner = NewDisposeScope();
                    var chunk = senderSets.Skip(start).Take(G).ToList();
                    var v = RunChunk(model, clean, attentionMask, chunk, receivers, metric, cleanCache, cfCache, options.FreezeMlps);
                    Array.Copy(v, 0, results, start, v.Length);
                    options.Progress?.Report(start + chunk.Count);
                }
                return results;
            }
        }
        finally
        {
            model.Options.UseSplitQkvInput = split;
        }
    }

    private static string ReceiverHook(HookedTransformer model, Receiver r) => r.Input switch
    {
        ReceiverInput.Q => $"blocks.{r.Layer}.hook_q_input",
        ReceiverInput.K => $"blocks.{r.Layer}.hook_k_input",
        ReceiverInput.V => $"blocks.{r.Layer}.hook_v_input",
        _ => $"blocks.{model.Config.NLayers - 1}.hook_resid_post",
    };

    private static double[] RunChunk(HookedTransformer model, Tensor clean, Tensor? mask, List<IReadOnlyList<Sender>> sets,
        IReadOnlyList<Receiver> receivers, Metric metric, ActivationCache cleanCache, ActivationCache cfCache, bool freezeMlps)
    {
        int G = sets.Count;
        long b = clean.shape[0], p = clean.shape[1];
        int L = model.Config.NLayers, H = model.Config.NHeads;
        var tokens = G == 1 ? clean : clean.repeat(G, 1);
        var bigMask = mask is null ? null : G == 1 ? mask : mask.repeat(G, 1);
        Tensor Tile(Tensor t) => t.unsqueeze(0).expand([G, .. t.shape]).reshape([G * t.shape[0], .. t.shape.Skip(1)]);

        // Pass 1: frozen clean heads (and MLPs), senders from the counterfactual run; record receiver inputs.
        var hooks = new List<(string, HookFunction)>();
        for (int l = 0; l < L; l++)
        {
            string name = $"blocks.{l}.attn.hook_z";
            var sel = zeros([G, 1, p, H, 1], dtype: ScalarType.Bool);
            for (int c = 0; c < G; c++)
                foreach (var s in sets[c].Where(s => s.Layer == l))
                    sel[c, 0, s.Position is int sp ? TensorIndex.Single(sp) : TensorIndex.Colon, s.Head] = true;
            var cleanZ = cleanCache[name];
            var cfZ = cfCache[name];
            hooks.Add((name, (act, h) =>
            {
                var chosen = where(sel.to(act.device), cfZ.unsqueeze(0), cleanZ.unsqueeze(0)); // [G, b, p, H, dh]
                return chosen.reshape(act.shape);
            }));
            if (freezeMlps)
            {
                var mlp = cleanCache[$"blocks.{l}.hook_mlp_out"];
                hooks.Add(($"blocks.{l}.hook_mlp_out", (act, h) => Tile(mlp)));
            }
        }
        var recorded = new Dictionary<string, Tensor>();
        // Only the logits at every position: pass 2 would rebuild pass 1's final residual exactly, so read pass 1.
        bool logitsOnly = receivers.All(r => r.Input == ReceiverInput.Logits && r.Position is null);
        if (!logitsOnly)
            foreach (var name in receivers.Select(r => ReceiverHook(model, r)).Distinct())
                hooks.Add((name, (act, h) => { recorded[name] = act.clone().MoveToOuterDisposeScope(); return null; }));
        var pass1 = model.RunWithHooks(tokens, hooks, bigMask);
        if (logitsOnly)
        {
            var per1 = pass1.reshape(G, b, pass1.shape[1], pass1.shape[2]);
            return Enumerable.Range(0, G).Select(c => metric.Evaluate(per1[c])).ToArray();
        }

        // Pass 2: clean run; each receiver's input gets the pass-1 change (recorded − clean) added, so a receiver
        // downstream of another still sees that one's new output (sender → receiver edges only, as in edge patching).
        var patchHooks = new List<(string, HookFunction)>();
        foreach (var group in receivers.GroupBy(r => ReceiverHook(model, r)))
        {
            var name = group.Key;
            patchHooks.Add((name, (act, h) =>
            {
                var sel = zeros(act.shape.Select((s, i) => i == 1 || (act.dim() == 4 && i == 2) ? s : 1L).ToArray(), dtype: ScalarType.Bool);
                foreach (var r in group)
                {
                    var pos = r.Position is int rp ? TensorIndex.Single(rp) : TensorIndex.Colon;
                    if (act.dim() == 4) sel[TensorIndex.Colon, pos, TensorIndex.Single(r.Head)] = true;
                    else sel[TensorIndex.Colon, pos] = true;
                }
                var change = recorded[name] - Tile(cleanCache[name]);
                return act + where(sel.to(act.device), change, zeros_like(change));
            }));
        }
        var logits = model.RunWithHooks(tokens, patchHooks, bigMask);
        var per = logits.reshape(G, b, logits.shape[1], logits.shape[2]);
        return Enumerable.Range(0, G).Select(c => metric.Evaluate(per[c])).ToArray();
    }
}
