using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Patching;

/// <summary>One patch: replace <see cref="HookName"/> at one position and/or one head (null = all of that axis).</summary>
public sealed record PatchCell(string HookName, int? Position = null, int? Head = null);

public sealed record PatchingOptions
{
    /// <summary>
    /// Run many cells in one forward by repeating the batch (copy i patches cell i). Rows of a transformer batch never
    /// interact (attention is within a row, no batch norm), so every copy computes exactly what its own forward would;
    /// results match the one-forward-per-cell loop up to float reassociation inside BLAS (~1e-6 relative).
    /// </summary>
    public bool Batched { get; init; } = true;
    /// <summary>Most copies of the batch in one forward (memory grows linearly with it).</summary>
    public int MaxCopiesPerForward { get; init; } = 32;
    public IProgress<int>? Progress { get; init; }
    public CancellationToken Cancellation { get; init; }
}

/// <summary>
/// Activation patching (TransformerLens' patching module): run <c>tokens</c>, replace one activation slice per cell
/// with the <see cref="Ablation"/>'s value and record the metric. Noising = run clean, patch from the corrupted run;
/// denoising = run corrupted, patch from the clean run. Each grid method returns metric values ready for a heatmap.
/// </summary>
public static class ActivationPatching
{
    /// <summary>Metric (batch mean) for every cell, batched per <paramref name="options"/>.</summary>
    public static double[] RunCells(HookedTransformer model, Tensor tokens, Tensor? attentionMask, IReadOnlyList<PatchCell> cells,
        Ablation source, Metric metric, PatchingOptions? options = null)
    {
        options ??= new PatchingOptions();
        if (tokens.shape[0] != metric.BatchSize)
            throw new ArgumentException($"tokens has {tokens.shape[0]} rows but the metric was built for {metric.BatchSize}.");
        source.Prepare(model, cells.Select(c => c.HookName).Distinct());
        var results = new double[cells.Count];
        int group = options.Batched ? Math.Max(1, options.MaxCopiesPerForward) : 1;
        for (int start = 0; start < cells.Count; start += group)
        {
            options.Cancellation.ThrowIfCancellationRequested();
            var chunk = cells.Skip(start).Take(group).ToList();
            var values = RunGroup(model, tokens, attentionMask, chunk, source, metric);
            Array.Copy(values, 0, results, start, values.Length);
            options.Progress?.Report(start + chunk.Count);
        }
        return results;
    }

    private static double[] RunGroup(HookedTransformer model, Tensor tokens, Tensor? mask, List<PatchCell> cells,
        Ablation source, Metric metric)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int g = cells.Count;
        long b = tokens.shape[0];
        var bigTokens = g == 1 ? tokens : tokens.repeat(g, 1);
        var bigMask = mask is null ? null : g == 1 ? mask : mask.repeat(g, 1);
        var hooks = new List<(string, HookFunction)>();
        foreach (var name in cells.Select(c => c.HookName).Distinct())
        {
            hooks.Add((name, (act, hook) =>
            {
                var src = source.Source(model, name, act[TensorIndex.Slice(0, b)]);
                var view = act.reshape([g, b, .. act.shape.Skip(1)]);
                var sel = Selection(name, cells, view.shape).to(act.device);
                return where(sel, src.unsqueeze(0), view).reshape(act.shape);
            }));
        }
        var logits = model.RunWithHooks(bigTokens, hooks, bigMask);
        var per = logits.reshape(g, b, logits.shape[1], logits.shape[2]);
        var values = new double[g];
        for (int i = 0; i < g; i++) values[i] = metric.Evaluate(per[i]);
        return values;
    }

    /// <summary>bool [g, 1, ...] true where copy i's cell replaces the activation of hook <paramref name="name"/>.</summary>
    private static Tensor Selection(string name, List<PatchCell> cells, long[] viewShape)
    {
        var (posDim, headDim) = Axes(name, viewShape.Length - 1);
        var shape = viewShape.ToArray();
        shape[1] = 1;
        var sel = zeros(shape, dtype: ScalarType.Bool);
        for (int i = 0; i < cells.Count; i++)
        {
            var c = cells[i];
            if (c.HookName != name) continue;
            var idx = new List<TensorIndex> { TensorIndex.Single(i), TensorIndex.Colon };
            for (int d = 1; d < viewShape.Length - 1; d++)
            {
                // view dim d+1 is activation dim d
                int? pick = d == posDim ? c.Position : d == headDim ? c.Head : null;
                if (pick is int k && (k < 0 || k >= viewShape[d + 1]))
                    throw new ArgumentOutOfRangeException(nameof(cells), $"Cell {c} is outside '{name}' of shape [{string.Join(", ", viewShape.Skip(1))}].");
                idx.Add(pick is int kk ? TensorIndex.Single(kk) : TensorIndex.Colon);
            }
            if (c.Head is not null && headDim < 0) throw new ArgumentException($"Hook '{name}' has no head axis (cell {c}).");
            sel[idx.ToArray()] = true;
        }
        return sel;
    }

    /// <summary>Position and head axes of a hook's activation (batch = dim 0); -1 when absent.</summary>
    internal static (int Pos, int Head) Axes(string name, int rank)
    {
        if (name.EndsWith("hook_pattern") || name.EndsWith("hook_attn_scores")) return (2, 1);
        return rank >= 4 ? (1, 2) : (1, -1);
    }

    // ----- heatmap grids -----

    /// <summary>[n_layers, pos]: patch blocks.{l}.{hook} (default hook_resid_pre) at one position.</summary>
    public static double[,] ResidStream(HookedTransformer model, Tensor tokens, Ablation source, Metric metric,
        Tensor? attentionMask = null, string hook = "hook_resid_pre", PatchingOptions? options = null) =>
        LayerByPosition(model, tokens, source, metric, attentionMask, l => $"blocks.{l}.{hook}", options);

    /// <summary>[n_layers, pos]: patch the attention output (all heads) at one position.</summary>
    public static double[,] AttnOut(HookedTransformer model, Tensor tokens, Ablation source, Metric metric,
        Tensor? attentionMask = null, PatchingOptions? options = null) =>
        LayerByPosition(model, tokens, source, metric, attentionMask, l => $"blocks.{l}.hook_attn_out", options);

    /// <summary>[n_layers, pos]: patch the MLP output at one position.</summary>
    public static double[,] MlpOut(HookedTransformer model, Tensor tokens, Ablation source, Metric metric,
        Tensor? attentionMask = null, PatchingOptions? options = null) =>
        LayerByPosition(model, tokens, source, metric, attentionMask, l => $"blocks.{l}.hook_mlp_out", options);

    /// <summary>[n_layers, n_heads]: patch each head's output (hook_z) at every position.</summary>
    public static double[,] HeadOutAllPos(HookedTransformer model, Tensor tokens, Ablation source, Metric metric,
        Tensor? attentionMask = null, PatchingOptions? options = null) =>
        LayerByHead(model, tokens, source, metric, attentionMask, "attn.hook_z", model.Config.NHeads, options);

    /// <summary>[n_layers, n_heads] for q, [n_layers, n_kv_heads] for k and v (GQA): patch hook_q/k/v of one head.</summary>
    public static double[,] HeadQkvAllPos(HookedTransformer model, Tensor tokens, char which, Ablation source, Metric metric,
        Tensor? attentionMask = null, PatchingOptions? options = null)
    {
        var (hook, heads) = char.ToLowerInvariant(which) switch
        {
            'q' => ("attn.hook_q", model.Config.NHeads),
            'k' => ("attn.hook_k", model.Config.KvHeads),
            'v' => ("attn.hook_v", model.Config.KvHeads),
            _ => throw new ArgumentException($"which must be 'q', 'k' or 'v', got '{which}'.", nameof(which)),
        };
        return LayerByHead(model, tokens, source, metric, attentionMask, hook, heads, options);
    }

    /// <summary>[n_layers, n_heads]: patch a head's attention pattern (all query positions).</summary>
    public static double[,] HeadPatternAllPos(HookedTransformer model, Tensor tokens, Ablation source, Metric metric,
        Tensor? attentionMask = null, PatchingOptions? options = null) =>
        LayerByHead(model, tokens, source, metric, attentionMask, "attn.hook_pattern", model.Config.NHeads, options);

    /// <summary>[n_layers, pos, n_heads]: patch each head's output (hook_z) at one position.</summary>
    public static double[,,] HeadOutByPos(HookedTransformer model, Tensor tokens, Ablation source, Metric metric,
        Tensor? attentionMask = null, PatchingOptions? options = null)
    {
        int L = model.Config.NLayers, H = model.Config.NHeads, P = (int)tokens.shape[1];
        var cells = new List<PatchCell>();
        for (int l = 0; l < L; l++)
        for (int p = 0; p < P; p++)
        for (int h = 0; h < H; h++)
            cells.Add(new PatchCell($"blocks.{l}.attn.hook_z", p, h));
        var v = RunCells(model, tokens, attentionMask, cells, source, metric, options);
        var grid = new double[L, P, H];
        int i = 0;
        for (int l = 0; l < L; l++)
        for (int p = 0; p < P; p++)
        for (int h = 0; h < H; h++)
            grid[l, p, h] = v[i++];
        return grid;
    }

    private static double[,] LayerByPosition(HookedTransformer model, Tensor tokens, Ablation source, Metric metric,
        Tensor? mask, Func<int, string> hook, PatchingOptions? options)
    {
        int L = model.Config.NLayers, P = (int)tokens.shape[1];
        var cells = new List<PatchCell>();
        for (int l = 0; l < L; l++)
        for (int p = 0; p < P; p++)
            cells.Add(new PatchCell(hook(l), p));
        return ToGrid(RunCells(model, tokens, mask, cells, source, metric, options), L, P);
    }

    private static double[,] LayerByHead(HookedTransformer model, Tensor tokens, Ablation source, Metric metric,
        Tensor? mask, string hook, int heads, PatchingOptions? options)
    {
        int L = model.Config.NLayers;
        var cells = new List<PatchCell>();
        for (int l = 0; l < L; l++)
        for (int h = 0; h < heads; h++)
            cells.Add(new PatchCell($"blocks.{l}.{hook}", null, h));
        return ToGrid(RunCells(model, tokens, mask, cells, source, metric, options), L, heads);
    }

    private static double[,] ToGrid(double[] v, int rows, int cols)
    {
        var g = new double[rows, cols];
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            g[r, c] = v[r * cols + c];
        return g;
    }
}
