using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Circuits.Attribution;

/// <summary>
/// The edge-patched forward, the one edge-level computation that needs split q/k/v inputs (each destination head gets
/// its own input): Σ_u patch[u, v] (a_u(corrupt) − a_u(current)) is added to destination v's input (faithfulness,
/// exact edge patching). Also the input checks shared by all edge-level work. Scoring (EAP, EAP-IG) runs the model
/// as it normally runs: <see cref="PlainEdgeRun"/>.
/// </summary>
internal static class EdgeForward
{
    internal static void Validate(HookedTransformer model, AttributionBatch batch)
    {
        if (batch.Clean.dim() != 2 || batch.Clean.shape[0] == 0 || batch.Clean.shape[1] == 0)
            throw new ArgumentException($"Clean tokens must be a non-empty [batch, pos] tensor, got [{string.Join(", ", batch.Clean.shape)}].");
        if (!batch.Clean.shape.SequenceEqual(batch.Corrupted.shape))
            throw new ArgumentException(
                $"Clean tokens [{string.Join(", ", batch.Clean.shape)}] and corrupted tokens [{string.Join(", ", batch.Corrupted.shape)}] " +
                "differ in shape: each clean/corrupted pair must have the same token count (edge scores compare positions one to one).");
        if (batch.AttentionMask is not null && !batch.AttentionMask.shape.SequenceEqual(batch.Clean.shape))
            throw new ArgumentException($"AttentionMask [{string.Join(", ", batch.AttentionMask.shape)}] differs from tokens [{string.Join(", ", batch.Clean.shape)}].");
        if (batch.Metric.BatchSize != batch.Clean.shape[0])
            throw new ArgumentException($"Metric '{batch.Metric.Name}' is for {batch.Metric.BatchSize} rows, batch has {batch.Clean.shape[0]}.");
    }

    /// <summary>
    /// Edge-patched logits [G·b, p, V]: copy c of the batch feeds destination v the sum of its sources from this run
    /// plus patch[c, u, v] · (a_u(corrupt) − a_u(current)) — patch = 1 takes the edge from the corrupted run. Exactly
    /// one forward for all G copies; sources are "current" values, so patches compose along paths.
    /// <paramref name="corruptByNode"/> is the corrupted run's sources in the <see cref="PlainEdgeRun.NodeMajor"/>
    /// layout and <paramref name="corruptResiduals"/> the residuals its destinations read (see
    /// <see cref="PlainEdgeRun.CaptureSources"/>). <see cref="EdgePatchPlan"/> decides per destination group which
    /// sources to read; each layer's q, k and v corrections come from one matrix product, and destinations whose
    /// input ends up equal for every head stay a shared (expanded) view. <paramref name="workspace"/>, when given, is
    /// reused for the corrupt − current differences ([≥ G, n_fwd, b·p·d]): a fresh buffer of that size per call costs
    /// page faults that can exceed the arithmetic. With <paramref name="answersOf"/>, only the logits at that metric's
    /// answer positions are computed, [G·b, V] (see <see cref="PlainEdgeRun.AnswerLogits"/>).
    /// </summary>
    internal static Tensor PatchedLogits(HookedTransformer model, CircuitGraph g, Tensor tokens, Tensor? mask, Tensor corruptByNode,
        Tensor[] corruptResiduals, Tensor patch, Tensor? workspace = null, Metric? answersOf = null)
    {
        using var _ = no_grad();
        using var mode = AnalysisMode.SplitInputs(model);
        long G = patch.shape[0], b = tokens.shape[0], p = tokens.shape[1], d = model.Config.DModel;
        int F = g.ForwardCount, L = g.NLayers, H = g.NHeads;
        var w = patch.to(corruptByNode.dtype, CPU).contiguous();
        var complement = 1 - w;
        var plan = new EdgePatchPlan(g, w.abs().sum(0L, false).data<float>().ToArray(), complement.abs().sum(0L, false).data<float>().ToArray());
        var buf = workspace?.narrow(0, 0, G) ?? empty([G, F, b * p * d], dtype: corruptByNode.dtype, device: corruptByNode.device); // corrupt − current
        var corrupt = corruptByNode.unsqueeze(0);
        var hooks = new List<(string, HookFunction)>();
        // buf[:, u] = corrupt_u − current_u for the sources some correction reads. In place (copy, then subtract):
        // these are the largest tensors of the run, and fresh ones cost page faults.
        void Record(int start, Tensor current /* [G·b, p, width, d] */)
        {
            int width = (int)current.shape[2];
            var slot = buf.narrow(1, start, width).view(G, width, b, p, d);
            slot.copy_(corrupt.narrow(1, start, width).view(1, width, b, p, d));
            slot.sub_(current.reshape(G, b, p, width, d).permute(0, 3, 1, 2, 4));
        }
        if (plan.SourceNeeded[0]) hooks.Add(("blocks.0.hook_resid_pre", (act, h) => { Record(0, act.unsqueeze(2)); return null; }));
        for (int l = 0; l < L; l++)
        {
            int layer = l;
            // Heads' results only for the heads needed, from hook_z (z_h · W_O[h]), one contiguous run of heads at a time.
            var heads = Enumerable.Range(0, H).Where(h => plan.SourceNeeded[g.HeadIndex(layer, h)]).ToArray();
            if (heads.Length > 0)
                hooks.Add(($"blocks.{l}.attn.hook_z", (act, h) =>
                {
                    foreach (var (first, count) in Runs(heads))
                        Record(g.HeadIndex(layer, first), model.Blocks[layer].attn.HeadOutputs(act, first, count));
                    return null;
                }));
            if (plan.SourceNeeded[g.MlpIndex(l)])
                hooks.Add(($"blocks.{l}.hook_mlp_out", (act, h) => { Record(g.MlpIndex(layer), act.unsqueeze(2)); return null; }));
        }

        // Σ_u weight[c, u, j] · buf[c, u] over the group's rows, for the destinations j that carry weight (the group's
        // WeightedColumns, in order): [G, columns, b·p·d].
        Tensor? Delta(EdgePatchPlan.Group grp)
        {
            if (grp.WeightedColumns.Length == 0) return null;
            using var rows = tensor(grp.Rows);
            using var cols = tensor(grp.WeightedColumns.Select(j => (long)j).ToArray());
            var weights = grp.FromCorrupt ? complement : w;
            var wSel = weights.narrow(2, grp.J0, grp.Width).index_select(1, rows).index_select(2, cols).to(buf.device); // [G, k, c]
            var src = grp.Rows.Length == grp.Prefix ? buf.narrow(1, 0, grp.Prefix) : buf.index_select(1, rows.to(buf.device));
            return wSel.transpose(1, 2).bmm(src);
        }

        // New input of destinations offset .. offset + width − 1 of a group (null = unchanged), laid out like act. The
        // corrections go into the heads that carry weight only, read strided from delta rather than reordered.
        Tensor? Apply(Tensor act, EdgePatchPlan.Group grp, Tensor? delta, int offset, int width)
        {
            var (first, count) = grp.ColumnsIn(offset, width);
            if (!grp.FromCorrupt && count == 0) return null;
            var start = grp.FromCorrupt ? corruptResiduals[grp.Residual].reshape(1, b, p, 1, d).expand(G, b, p, width, d) : act.reshape(G, b, p, width, d);
            if (count == 0) return start.reshape(act.shape); // the corrupt residual for every head: a view when G = 1
            // A fresh tensor (never act itself: the residual it may alias is read elsewhere in the block), laid out head-major
            // [width, G, b, p, d] and returned as a view of act's shape: the split-input norm and the per-head projection
            // then read it without reordering copies (see TransformerBlock.NormPerHead).
            var headMajor = start.permute(3, 0, 1, 2, 4);
            var result = headMajor.is_contiguous() ? headMajor.clone() : headMajor.contiguous();
            var part = delta!.narrow(1, first, count).view(G, count, b, p, d).transpose(0, 1);
            using var heads = tensor(grp.WeightedColumns.Skip(first).Take(count).Select(j => (long)(j - offset)).ToArray()).to(result.device);
            result.index_add_(0, heads, part, grp.FromCorrupt ? -1 : 1);
            return width == 1 ? result.view(act.shape) : result.view(width, G * b, p, d).permute(1, 2, 0, 3);
        }

        for (int l = 0; l < L; l++)
        {
            if (plan.For(g.HeadInputIndex(l, 0, QkvInput.Q)) is { } qkv)
            {
                Tensor? delta = null;
                hooks.Add(($"blocks.{l}.hook_q_input", (act, h) => Apply(act, qkv, delta = Delta(qkv), 0, H)));
                hooks.Add(($"blocks.{l}.hook_k_input", (act, h) => Apply(act, qkv, delta, H, H)));
                hooks.Add(($"blocks.{l}.hook_v_input", (act, h) => Apply(act, qkv, delta, 2 * H, H)));
            }
            if (plan.For(g.MlpInputIndex(l)) is { } mlp)
                hooks.Add(($"blocks.{l}.hook_mlp_in", (act, h) => Apply(act, mlp, Delta(mlp), 0, 1)));
        }
        if (plan.For(g.LogitsInput) is { } logits)
            hooks.Add(($"blocks.{L - 1}.hook_resid_post", (act, h) => Apply(act, logits, Delta(logits), 0, 1)));
        var bigTokens = G == 1 ? tokens : tokens.repeat(G, 1);
        var bigMask = mask is null ? null : G == 1 ? mask : mask.repeat(G, 1);
        if (answersOf is null) return model.RunWithHooks(bigTokens, hooks, bigMask);
        using (model.AddHooks(hooks)) return PlainEdgeRun.AnswerLogits(model, answersOf, bigTokens, bigMask, (int)G);
    }

    /// <summary>Maximal runs of consecutive values in an ascending list, as (first, count).</summary>
    private static IEnumerable<(int First, int Count)> Runs(int[] sorted)
    {
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1) j++;
            yield return (sorted[i], j - i + 1);
            i = j + 1;
        }
    }

}
