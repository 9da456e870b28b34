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
    /// Batched (default): cells are grouped by the layer of their hook and each group runs as one forward over
    /// copies of the batch (copy i patches cell i), resumed at that layer from a residual stream computed once:
    /// <list type="bullet">
    /// <item>Rows of a transformer batch never interact (attention is within a row, no batch norm), so copy i computes
    /// exactly what a forward patching only cell i would.</item>
    /// <item>Everything before block l is unchanged by a patch at layer ≥ l, so the copies start from the input of
    /// block l of one unpatched forward (<see cref="HookedTransformer.ForwardResidualFrom"/>); blocks l … end and all
    /// their hooks run as usual. Cells on hooks outside the blocks (embeddings, ln_final) run full forwards. Hooks the
    /// caller left attached to earlier blocks run once, in that shared forward. This is where the time goes: cells of
    /// layer l skip l blocks (a 4-layer model's head grid runs 10 of the loop's 16 block passes per head).</item>
    /// <item>Every <see cref="Metric"/> reads the logits at its answer position only, so ln_final and the unembedding run
    /// at that position alone (unless hooks are attached to ln_final).</item>
    /// </list>
    /// Results match the one-forward-per-cell loop up to float reassociation inside BLAS (~1e-6 relative).
    /// False: that loop, one full forward per cell (the reference).
    /// </summary>
    public bool Batched { get; init; } = true;
    /// <summary>Most copies of the batch in one forward (memory grows linearly with it).</summary>
    public int MaxCopiesPerForward { get; init; } = 32;
    /// <summary>
    /// Most bytes of the widest activation of one batched forward (MLP hidden, attention scores, ...); fewer copies run
    /// together when it would be exceeded (at least one always runs). Batching copies saves no arithmetic, only per-op
    /// overhead, which is amortised long before this size, while bigger blocks make forwards slower per token: libtorch
    /// allocates every intermediate from malloc, glibc serves large blocks from fresh mmaps or trims them back to the
    /// OS, and first-touch page faults then cost more than the arithmetic (3 s/GB on the 2-core CI VM against 0.1 s/GB
    /// for reused memory). Measured there, d512 model, 256 tokens per copy, 1 thread: 2 MiB ran at the FLOP-predicted
    /// speed every time, 4 MiB spent 0.7–1.1 s of a 4 s run in page faults in some processes, 16 MiB 2–3 s of 5 s.
    /// </summary>
    public long MaxActivationBytes { get; init; } = 2L << 20;
    public IProgress<int>? Progress { get; init; }
    public CancellationToken Cancellation { get; init; }
}

/// <summary>
/// Activation patching (TransformerLens' patching module): run <c>tokens</c>, replace one activation slice per cell
/// with the <see cref="Ablation"/>'s value and record the metric. Noising = run clean, patch from the corrupted run;
/// denoising = run corrupted, patch from the clean run. Each grid method returns metric values ready for a heatmap.
/// Cells run batched by default; see <see cref="PatchingOptions.Batched"/> for how and why that gives the numbers of
/// one forward per cell.
/// </summary>
public static class ActivationPatching
{
    // A group closes at a layer boundary once it has this many token rows: below it, per-op overhead outweighs
    // recomputing the extra layers for cells of later layers.
    private const long MinRowsPerForward = 256;

    /// <summary>Metric (batch mean) for every cell, batched per <paramref name="options"/>.</summary>
    public static double[] RunCells(HookedTransformer model, Tensor tokens, Tensor? attentionMask, IReadOnlyList<PatchCell> cells,
        Ablation source, Metric metric, PatchingOptions? options = null)
    {
        options ??= new PatchingOptions();
        if (tokens.dim() != 2)
            throw new ArgumentException($"tokens must be [batch, pos], got [{string.Join(", ", tokens.shape)}].", nameof(tokens));
        if (tokens.shape[0] != metric.BatchSize)
            throw new ArgumentException($"tokens has {tokens.shape[0]} rows but the metric was built for {metric.BatchSize}.");
        source.Prepare(model, cells.Select(c => c.HookName).Distinct());
        var results = new double[cells.Count];
        int done = 0;
        void Record(IReadOnlyList<int> indices, double[] values)
        {
            for (int i = 0; i < indices.Count; i++) results[indices[i]] = values[i];
            done += indices.Count;
            options.Progress?.Report(done);
        }

        if (!options.Batched)
        {
            for (int i = 0; i < cells.Count; i++)
            {
                options.Cancellation.ThrowIfCancellationRequested();
                Record([i], RunFull(model, tokens, attentionMask, [cells[i]], source, metric));
            }
            return results;
        }

        long rowsPerCopy = tokens.shape[0] * tokens.shape[1];
        bool finalNormHooked = model.ln_final.HookScale.HookCount > 0 || model.ln_final.HookNormalized.HookCount > 0;
        var layers = cells.Select(c => model.Hook(c.HookName).Layer).ToArray();
        var resumable = Enumerable.Range(0, cells.Count).Where(i => layers[i] >= 0).OrderBy(i => layers[i]).ToList();
        var full = Enumerable.Range(0, cells.Count).Where(i => layers[i] < 0).ToList();

        int fullCap = CopiesCap(model, tokens, options, withLogits: true);
        for (int start = 0; start < full.Count; start += fullCap)
        {
            options.Cancellation.ThrowIfCancellationRequested();
            var chunk = full.Skip(start).Take(fullCap).ToList();
            Record(chunk, RunFull(model, tokens, attentionMask, chunk.Select(i => cells[i]).ToList(), source, metric));
        }
        if (resumable.Count == 0) return results;

        using var outer = NewDisposeScope();
        Tensor[] inputs;
        using (no_grad())
        using (NewDisposeScope())
        {
            inputs = model.BlockInputs(tokens, attentionMask);
            foreach (var t in inputs) t.MoveToOuterDisposeScope();
        }
        int cap = CopiesCap(model, tokens, options, withLogits: finalNormHooked);
        var group = new List<int>();
        void Flush()
        {
            if (group.Count == 0) return;
            options.Cancellation.ThrowIfCancellationRequested();
            var groupCells = group.Select(i => cells[i]).ToList();
            var values = RunResumed(model, inputs[layers[group[0]]], layers[group[0]], tokens, attentionMask, groupCells,
                source, metric, finalNormHooked);
            Record(group, values);
            group = new List<int>();
        }
        foreach (int i in resumable)
        {
            bool newLayer = group.Count > 0 && layers[i] != layers[group[0]];
            if (group.Count == cap || (newLayer && group.Count * rowsPerCopy >= MinRowsPerForward)) Flush();
            group.Add(i);
        }
        Flush();
        return results;
    }

    /// <summary>Copies per forward allowed by <see cref="PatchingOptions.MaxCopiesPerForward"/> and the activation budget.</summary>
    private static int CopiesCap(HookedTransformer model, Tensor tokens, PatchingOptions options, bool withLogits)
    {
        var c = model.Config;
        long p = tokens.shape[1];
        long widest = Math.Max(Math.Max(c.DModel, c.DMlp), c.NHeads * p); // per token: residual, MLP hidden, scores
        if (model.Options.UseSplitQkvInput || model.Options.UseAttnResult) widest = Math.Max(widest, (long)c.NHeads * c.DModel);
        if (withLogits) widest = Math.Max(widest, c.DVocab);
        long perCopy = tokens.shape[0] * p * widest * model.DType.ElementSize();
        long byMemory = Math.Max(1, options.MaxActivationBytes / Math.Max(1, perCopy));
        return (int)Math.Clamp(byMemory, 1, Math.Max(1, options.MaxCopiesPerForward));
    }

    /// <summary>Full forwards from the tokens over g copies, full logits (the per-cell loop when g = 1).</summary>
    private static double[] RunFull(HookedTransformer model, Tensor tokens, Tensor? mask, List<PatchCell> cells,
        Ablation source, Metric metric)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int g = cells.Count;
        long b = tokens.shape[0];
        var bigTokens = g == 1 ? tokens : tokens.repeat(g, 1);
        var bigMask = mask is null ? null : g == 1 ? mask : mask.repeat(g, 1);
        var logits = model.RunWithHooks(bigTokens, PatchHooks(model, cells, source, b), bigMask);
        var per = logits.reshape(g, b, logits.shape[1], logits.shape[2]);
        var values = new double[g];
        for (int i = 0; i < g; i++) values[i] = metric.Evaluate(per[i]);
        return values;
    }

    /// <summary>
    /// g copies resumed at block <paramref name="layer"/> from its unpatched input [b, p, d] (every cell's hook is in
    /// that block or later); logits only at the metric's answer positions unless ln_final has hooks.
    /// </summary>
    private static double[] RunResumed(HookedTransformer model, Tensor blockInput, int layer, Tensor tokens, Tensor? mask,
        List<PatchCell> cells, Ablation source, Metric metric, bool fullLogits)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int g = cells.Count;
        long b = tokens.shape[0], p = tokens.shape[1];
        var x = g == 1 ? blockInput : blockInput.repeat(g, 1, 1);
        var bigMask = mask is null ? null : g == 1 ? mask : mask.repeat(g, 1);
        Tensor resid;
        using (model.AddHooks(PatchHooks(model, cells, source, b)))
            resid = model.ForwardResidualFrom(x, bigMask, layer);
        var values = new double[g];
        if (fullLogits)
        {
            var per = model.Unembed(model.ln_final.Forward(resid)).reshape(g, b, p, -1);
            for (int i = 0; i < g; i++) values[i] = metric.Evaluate(per[i]);
            return values;
        }
        var answer = metric.UnembedAtAnswers(model, resid, g).reshape(g, b, -1);
        var means = stack(Enumerable.Range(0, g).Select(i => metric.PerExampleAtAnswer(answer[i]).mean()).ToArray())
            .to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        return means;
    }

    /// <summary>One hook per patched name: copy i of the repeated batch gets cell i's slice from the source.</summary>
    private static List<(string, HookFunction)> PatchHooks(HookedTransformer model, List<PatchCell> cells, Ablation source, long b)
    {
        int g = cells.Count;
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
        return hooks;
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
