using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Circuits.Attribution;

/// <summary>
/// The forwards that need the model switched to per-head results and split q/k/v inputs (<see cref="EdgeMode"/>):
/// the edge-patched forward, where each destination adds Σ_u patch[u, v] (a_u(corrupt) − a_u(current)) to its own
/// input (faithfulness, exact edge patching), and, for EAP-IG over activations, which interpolates one source group
/// at a time, source capture [b, p, n_fwd, d] and destination gradients [b, p, n_bwd, d] from one backward.
/// EAP and EAP-IG over inputs do not need split inputs and use the cheaper <see cref="PlainEdgeRun"/>.
/// Source groups, in forward order: 0 = input (blocks.0.hook_resid_pre = embed + pos_embed), 1 + 2l = the heads of
/// layer l (attn.hook_result, b_O excluded: it is the same in every run), 2 + 2l = MLP l (hook_mlp_out).
/// </summary>
internal static class EdgeForward
{
    /// <summary>Switches the opt-in hooks on for the lifetime of the returned handle, restoring the old flags.</summary>
    internal static IDisposable EdgeMode(HookedTransformer model)
    {
        bool r = model.Options.UseAttnResult, s = model.Options.UseSplitQkvInput;
        model.Options.UseAttnResult = true;
        model.Options.UseSplitQkvInput = true;
        return new Restore(() => { model.Options.UseAttnResult = r; model.Options.UseSplitQkvInput = s; });
    }

    internal static int GroupCount(EdgeLayout g) => 1 + 2 * g.NLayers;
    /// <summary>First forward index and width of a source group.</summary>
    internal static (int Start, int Width) GroupRange(EdgeLayout g, int group) =>
        group == 0 ? (0, 1) : (group - 1) % 2 == 0 ? (g.HeadIndex((group - 1) / 2, 0), g.NHeads) : (g.MlpIndex((group - 1) / 2), 1);
    internal static string GroupHook(int group) =>
        group == 0 ? "blocks.0.hook_resid_pre" : (group - 1) % 2 == 0 ? $"blocks.{(group - 1) / 2}.attn.hook_result" : $"blocks.{(group - 1) / 2}.hook_mlp_out";
    /// <summary>[b, p, d] or [b, p, H, d] → [b, p, width, d].</summary>
    private static Tensor AsGroup(Tensor act) => act.dim() == 3 ? act.unsqueeze(2) : act;

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

    /// <summary>No-grad forward; returns logits and every source output stacked [b, p, n_fwd, d] (caller's scope).</summary>
    internal static (Tensor Logits, Tensor Sources) CaptureSources(HookedTransformer model, EdgeLayout g, Tensor tokens, Tensor? mask)
    {
        using var _ = no_grad();
        int groups = GroupCount(g);
        var parts = new Tensor[groups];
        var hooks = Enumerable.Range(0, groups).Select(i => (GroupHook(i), (HookFunction)((act, h) =>
        {
            parts[i] = AsGroup(act).detach().MoveToOuterDisposeScope();
            return null;
        })));
        var logits = model.RunWithHooks(tokens, hooks, mask);
        return (logits, cat(parts, 2));
    }

    /// <summary>
    /// One forward with autograd and one backward of Σ_rows metric: gradients at every destination input
    /// [b, p, n_bwd, d]. <paramref name="replace"/>(group, act) may return a replacement source output (interpolation);
    /// with <paramref name="captureSources"/> also returns the source outputs of this run. The input is re-rooted as a
    /// fresh leaf so gradients flow even when the model's parameters are frozen.
    /// </summary>
    internal static (Tensor Grads, Tensor? Sources, Tensor Metric) GradientRun(HookedTransformer model, EdgeLayout g, Tensor tokens,
        Tensor? mask, Metric metric, Func<int, Tensor, Tensor?>? replace, bool captureSources)
    {
        using var grad = enable_grad();
        int groups = GroupCount(g), L = g.NLayers;
        var parts = new Tensor[groups];
        var dest = new Tensor[L * 4 + 1];
        var hooks = new List<(string, HookFunction)>();
        for (int i = 0; i < groups; i++)
        {
            int group = i;
            hooks.Add((GroupHook(group), (act, h) =>
            {
                var x = replace?.Invoke(group, act) ?? act;
                if (group == 0) x = x.detach().requires_grad_(true);
                if (captureSources) parts[group] = AsGroup(x).detach().MoveToOuterDisposeScope();
                return ReferenceEquals(x, act) ? null : x;
            }));
        }
        // Each destination gets its own node (a copy) so its gradient is not merged with the other readers'.
        HookFunction Capture(int slot) => (act, h) => dest[slot] = act.clone().MoveToOuterDisposeScope();
        for (int l = 0; l < L; l++)
        {
            hooks.Add(($"blocks.{l}.hook_q_input", Capture(4 * l)));
            hooks.Add(($"blocks.{l}.hook_k_input", Capture(4 * l + 1)));
            hooks.Add(($"blocks.{l}.hook_v_input", Capture(4 * l + 2)));
            hooks.Add(($"blocks.{l}.hook_mlp_in", Capture(4 * l + 3)));
        }
        hooks.Add(($"blocks.{L - 1}.hook_resid_post", Capture(4 * L)));
        var logits = model.RunWithHooks(tokens, hooks, mask);
        var m = metric.PerExample(logits);
        var grads = autograd.grad([m.sum()], dest, allow_unused: true);
        var stacked = cat(dest.Select((d, i) =>
        {
            var gr = grads[i] is null || grads[i].IsInvalid ? zeros_like(d) : grads[i];
            return AsGroup(gr.detach());
        }).ToArray(), 2);
        return (stacked, captureSources ? cat(parts, 2) : null, m.detach());
    }

    /// <summary>
    /// Edge-patched logits [G·b, p, V]: copy c of the batch feeds destination v the sum of its sources from this run
    /// plus patch[c, u, v] · (a_u(corrupt) − a_u(current)) — patch = 1 takes the edge from the corrupted run. Exactly
    /// one forward for all G copies; sources are "current" values, so patches compose along paths.
    /// <paramref name="corruptByNode"/> is the corrupted run's sources in the <see cref="PlainEdgeRun.NodeMajor"/>
    /// layout and <paramref name="corruptResiduals"/> the residuals its destinations read (see
    /// <see cref="PlainEdgeRun.CaptureSources"/>).
    /// Because a destination's input is its residual and the residual is the sum of the upstream sources (plus biases
    /// that are equal in every run), the same input is also corrupt residual − Σ_u (1 − patch[u, v]) (a_u(corrupt) −
    /// a_u(current)). Each destination group uses whichever form reads fewer sources: a small patch set in the first,
    /// a small circuit (everything else patched, as in faithfulness) in the second. Each layer's q, k and v corrections
    /// come from one matrix product.
    /// </summary>
    internal static Tensor PatchedLogits(HookedTransformer model, EdgeLayout g, Tensor tokens, Tensor? mask, Tensor corruptByNode,
        Tensor[] corruptResiduals, Tensor patch, bool[] anyPatchedDest)
    {
        using var _ = no_grad();
        long G = patch.shape[0], b = tokens.shape[0], p = tokens.shape[1], d = model.Config.DModel;
        int F = g.NForward, L = g.NLayers, H = g.NHeads, B = g.NBackward;
        var w = patch.to(corruptByNode.dtype, CPU).contiguous();
        var complement = 1 - w;
        // Over the copies, which weights are non-zero in each form ([F, B] row-major).
        var patched = w.abs().sum(0L, false).data<float>().ToArray();
        var kept = complement.abs().sum(0L, false).data<float>().ToArray();
        var buf = empty([G, F, b * p * d], dtype: corruptByNode.dtype, device: corruptByNode.device); // corrupt − current
        var corrupt = corruptByNode.unsqueeze(0);
        var hooks = new List<(string, HookFunction)>();
        for (int i = 0; i < GroupCount(g); i++)
        {
            var (start, width) = GroupRange(g, i);
            hooks.Add((GroupHook(i), (act, h) =>
            {
                // In place (copy, then subtract): these are the largest tensors of the run, and fresh ones cost page faults.
                var slot = buf.narrow(1, start, width).view(G, width, b, p, d);
                slot.copy_(corrupt.narrow(1, start, width).view(1, width, b, p, d));
                slot.sub_(AsGroup(act).reshape(G, b, p, width, d).permute(0, 3, 1, 2, 4));
                return null;
            }));
        }

        // Σ_u weight[c, u, j] · buf[c, u] for j in j0 .. j0 + width − 1 over the given source rows: [G, width, b·p·d].
        Tensor Mix(Tensor weights, long[] rows, int j0, int width, int prefix)
        {
            using var idx = tensor(rows);
            var wSel = weights.narrow(2, j0, width).index_select(1, idx).to(buf.device); // [G, k, width]
            var src = rows.Length == prefix ? buf.narrow(1, 0, prefix) : buf.index_select(1, idx.to(buf.device));
            return wSel.transpose(1, 2).bmm(src);
        }

        // The new inputs of a destination group as (delta, base): input = act + delta when base is null, else base − delta
        // (delta null = nothing to subtract); null when the group keeps its current input.
        (Tensor? Delta, Tensor? Base)? Correction(int j0, int width, int residual)
        {
            if (!Enumerable.Range(j0, width).Any(j => anyPatchedDest[j])) return null;
            int prefix = g.UpstreamPrefix(j0);
            long[] Rows(float[] nonzero) => Enumerable.Range(0, prefix)
                .Where(u => Enumerable.Range(j0, width).Any(j => nonzero[u * B + j] != 0)).Select(u => (long)u).ToArray();
            var patchedRows = Rows(patched);
            var keptRows = Rows(kept);
            if (patchedRows.Length <= keptRows.Length)
                return patchedRows.Length == 0 ? null : (Mix(w, patchedRows, j0, width, prefix), null);
            var baseResidual = corruptResiduals[residual];
            return (keptRows.Length == 0 ? null : Mix(complement, keptRows, j0, width, prefix), baseResidual);
        }

        // The result is laid out like act (materialised, then updated in place); delta ([G, width, b·p·d]) is read
        // strided as [G, b, p, width, d] rather than reordered into a copy.
        Tensor Apply(Tensor act, (Tensor? Delta, Tensor? Base) c, int offset, int width)
        {
            var delta = c.Delta?.narrow(1, offset, width).view(G, width, b, p, d).permute(0, 2, 3, 1, 4);
            var start = c.Base is null ? act.reshape(G, b, p, width, d) : c.Base.reshape(1, b, p, 1, d).expand(G, b, p, width, d);
            // Never act itself: the residual it may alias is read elsewhere in the block.
            var result = start.is_contiguous() ? start.clone() : start.contiguous();
            if (delta is not null)
            {
                if (c.Base is null) result.add_(delta);
                else result.sub_(delta);
            }
            return result.view(act.shape);
        }

        for (int l = 0; l < L; l++)
        {
            (Tensor?, Tensor?)? qkv = null;
            int j0 = g.QkvIndex(l, 0, 0), resid = 2 * l;
            hooks.Add(($"blocks.{l}.hook_q_input", (act, h) => (qkv = Correction(j0, 3 * H, resid)) is { } c ? Apply(act, c, 0, H) : null));
            hooks.Add(($"blocks.{l}.hook_k_input", (act, h) => qkv is { } c ? Apply(act, c, H, H) : null));
            hooks.Add(($"blocks.{l}.hook_v_input", (act, h) => qkv is { } c ? Apply(act, c, 2 * H, H) : null));
            int jm = g.MlpInIndex(l), residMlp = 2 * l + 1;
            hooks.Add(($"blocks.{l}.hook_mlp_in", (act, h) => Correction(jm, 1, residMlp) is { } c ? Apply(act, c, 0, 1) : null));
        }
        hooks.Add(($"blocks.{L - 1}.hook_resid_post", (act, h) => Correction(g.LogitsIndex, 1, 2 * L) is { } c ? Apply(act, c, 0, 1) : null));
        var bigTokens = G == 1 ? tokens : tokens.repeat(G, 1);
        var bigMask = mask is null ? null : G == 1 ? mask : mask.repeat(G, 1);
        return model.RunWithHooks(bigTokens, hooks, bigMask);
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        private Action? _undo = undo;
        public void Dispose() => Interlocked.Exchange(ref _undo, null)?.Invoke();
    }
}
