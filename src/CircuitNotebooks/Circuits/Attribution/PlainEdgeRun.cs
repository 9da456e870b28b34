using CircuitNotebooks.Hooks;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Circuits.Attribution;

/// <summary>
/// Edge-level quantities from forwards of the model as it normally runs (no split q/k/v inputs, no per-head results),
/// which is what makes EAP / EAP-IG cost about as much as the plain forwards and backwards they need:
/// <list type="bullet">
/// <item>Source outputs: head h's hook_result is hook_z[h] · W_O[h] (<see cref="Attention.HeadOutputs"/>), computed after the forward from hook_z.</item>
/// <item>Destination gradients: in a split-input forward every head's q/k/v input holds the same value resid_pre, so the
/// gradient at head h's q input is the norm's input gradient (closed form, <see cref="Norm.InputGradientInPlace"/>) of
/// W_Q[h] · ∂M/∂hook_q[h]. One backward to hook_q/k/v gives all of them; MLP and logits inputs are plain tensors.</item>
/// </list>
/// Scores are contracted as soon as a backward is done (S[b, v, u] += Σ_{p,d} grad_v · diff_u), so no
/// [b, p, n_bwd, d] gradient buffer is ever built.
/// </summary>
internal static class PlainEdgeRun
{
    /// <summary>Adds <see cref="Add"/> [b, p, d] to the activation at <see cref="Hook"/> (an interpolation step).</summary>
    internal readonly record struct Perturbation(string Hook, Tensor Add);

    /// <summary>
    /// No-grad forward: logits, source outputs [b, n_fwd, p, d] in forward order, and the residual every destination
    /// group reads: index 2l = resid_pre of layer l (q/k/v inputs), 2l + 1 = MLP l input, 2L = final residual.
    /// </summary>
    internal static (Tensor Logits, Tensor Sources, Tensor[] Residuals) CaptureSources(HookedTransformer model, CircuitGraph g,
        Tensor tokens, Tensor? mask)
    {
        using var _ = no_grad();
        using var mode = AnalysisMode.Plain(model);
        var recorder = new SourceRecorder(model, g);
        int L = g.NLayers;
        var residuals = new Tensor[2 * L + 1];
        var hooks = recorder.Hooks(null).ToList();
        for (int l = 0; l < L; l++)
        {
            int slot = l;
            hooks.Add(($"blocks.{l}.hook_resid_pre", (act, h) => { residuals[2 * slot] = act.detach().MoveToOuterDisposeScope(); return null; }));
            hooks.Add(($"blocks.{l}.hook_mlp_in", (act, h) => { residuals[2 * slot + 1] = act.detach().MoveToOuterDisposeScope(); return null; }));
        }
        hooks.Add(($"blocks.{L - 1}.hook_resid_post", (act, h) => { residuals[2 * L] = act.detach().MoveToOuterDisposeScope(); return null; }));
        var logits = model.RunWithHooks(tokens, hooks, mask);
        return (logits, recorder.Sources(), residuals);
    }

    /// <summary>Sources [b, n_fwd, p, d] → [n_fwd, b·p·d], the layout edge-patched forwards read.</summary>
    internal static Tensor NodeMajor(Tensor sources) => sources.transpose(0, 1).reshape(sources.shape[1], -1).contiguous();

    /// <summary>
    /// One forward with autograd (with <paramref name="perturb"/>.Add added to the activation at its hook, for
    /// interpolation) and one backward of Σ_rows metric; adds Σ_{p,d} ∂M/∂input_v · diffs_u into
    /// <paramref name="acc"/> [b, n_bwd, n_fwd], for the sources u in <paramref name="sources"/> (all when null).
    /// With <paramref name="subtractOwnSources"/>, this run's source outputs are first subtracted from
    /// <paramref name="diffs"/> [b, n_fwd, p, d] in place (pass the corrupted sources; they become corrupt − clean).
    /// </summary>
    internal static void AccumulateScores(HookedTransformer model, CircuitGraph g, Tensor tokens, Tensor? mask, Metric metric,
        Perturbation? perturb, Tensor diffs, bool subtractOwnSources, Tensor acc, (int Start, int Width)? sources = null)
    {
        using var scope = NewDisposeScope();
        using var mode = AnalysisMode.Plain(model);
        int L = g.NLayers, H = g.NHeads;
        var recorder = subtractOwnSources ? new SourceRecorder(model, g) : null;
        var residPre = new Tensor[L];
        var qkv = new Tensor[3 * L];
        var mlpIn = new Tensor[L];
        Tensor? final = null;
        var hooks = new List<(string, HookFunction)>();
        Tensor metricSum;
        using (enable_grad())
        {
            if (perturb is { } pt && pt.Hook != "blocks.0.hook_resid_pre") hooks.Add((pt.Hook, (act, h) => act + pt.Add));
            // The input is a fresh leaf so gradients flow even when every parameter is frozen.
            hooks.Add(("blocks.0.hook_resid_pre", (act, h) =>
            {
                var x = perturb is { Hook: "blocks.0.hook_resid_pre" } p0 ? act + p0.Add : act;
                return residPre[0] = x.detach().requires_grad_(true).MoveToOuterDisposeScope();
            }));
            for (int l = 1; l < L; l++)
            {
                int layer = l;
                hooks.Add(($"blocks.{l}.hook_resid_pre", (act, h) => { residPre[layer] = act.MoveToOuterDisposeScope(); return null; }));
            }
            if (recorder is not null) hooks.AddRange(recorder.Hooks(residPre));
            for (int l = 0; l < L; l++)
            {
                int layer = l;
                hooks.Add(($"blocks.{l}.attn.hook_q", (act, h) => { qkv[3 * layer] = act.MoveToOuterDisposeScope(); return null; }));
                hooks.Add(($"blocks.{l}.attn.hook_k", (act, h) => { qkv[3 * layer + 1] = act.MoveToOuterDisposeScope(); return null; }));
                hooks.Add(($"blocks.{l}.attn.hook_v", (act, h) => { qkv[3 * layer + 2] = act.MoveToOuterDisposeScope(); return null; }));
                // A copy, so this destination's gradient is not merged with the residual's other readers.
                hooks.Add(($"blocks.{l}.hook_mlp_in", (act, h) => mlpIn[layer] = act.clone().MoveToOuterDisposeScope()));
            }
            hooks.Add(($"blocks.{L - 1}.hook_resid_post", (act, h) => final = act.clone().MoveToOuterDisposeScope()));
            var logits = model.RunWithHooks(tokens, hooks, mask);
            metricSum = metric.PerExample(logits).sum();
        }
        recorder?.SubtractFrom(diffs);
        var targets = qkv.Concat(mlpIn).Append(final!).ToArray();
        var grads = autograd.grad([metricSum], targets, allow_unused: true);
        var diffsT = diffs.flatten(2).transpose(1, 2); // [b, p·d, n_fwd]
        var (first, count) = sources ?? (0, g.ForwardCount);
        int End(int j) => Math.Min(first + count, g.PrefixLength(j)); // only upstream sources feed destination j
        long b = tokens.shape[0], p = tokens.shape[1], d = model.Config.DModel;
        using var _ = no_grad();
        for (int l = 0; l < L; l++)
        {
            using var layerScope = NewDisposeScope();
            // q, k and v destinations of a layer are contiguous in the backward order: one contraction for all 3H.
            var gOut = cat([Grad(grads, targets, 3 * l), Grad(grads, targets, 3 * l + 1), Grad(grads, targets, 3 * l + 2)], 2); // [b, p, 3H, dh]
            var attn = model.Blocks[l].attn;
            var w = cat([attn.InputWeight(0), attn.InputWeight(1), attn.InputWeight(2)], 0); // [3H, d, dh]
            long dh = gOut.shape[3];
            var gNorm = gOut.permute(2, 0, 1, 3).reshape(3 * H, b * p, dh).bmm(w.transpose(1, 2)).view(3 * H, b, p, d);
            var gIn = model.Blocks[l].ln1.InputGradientInPlace(residPre[l].detach().unsqueeze(0), gNorm);
            int j0 = g.HeadInputIndex(l, 0, QkvInput.Q), jm = g.MlpInputIndex(l);
            Contract(acc, gIn.view(3 * H, b, p * d).transpose(0, 1), diffsT, j0, first, End(j0));
            Contract(acc, Grad(grads, targets, 3 * L + l).reshape(b, 1, p * d), diffsT, jm, first, End(jm));
        }
        Contract(acc, Grad(grads, targets, 4 * L).reshape(b, 1, p * d), diffsT, g.LogitsInput, first, End(g.LogitsInput));
    }

    /// <summary>acc[:, j0 .. j0 + width, u0 .. u1] += grads [b, width, p·d] × diffsT[:, :, u0 .. u1].</summary>
    private static void Contract(Tensor acc, Tensor grads, Tensor diffsT, int j0, int u0, int u1)
    {
        if (u1 <= u0) return;
        acc.narrow(1, j0, grads.shape[1]).narrow(2, u0, u1 - u0).add_(grads.bmm(diffsT.narrow(2, u0, u1 - u0)));
    }

    /// <summary>A destination the metric does not depend on has no gradient: zero.</summary>
    private static Tensor Grad(IList<Tensor> grads, Tensor[] targets, int i) =>
        grads[i] is null || grads[i].IsInvalid ? zeros_like(targets[i]) : grads[i].detach();

    /// <summary>Records input, per-head results (from hook_z) and MLP outputs of one forward.</summary>
    private sealed class SourceRecorder(HookedTransformer model, CircuitGraph g)
    {
        private readonly Tensor?[] _z = new Tensor?[g.NLayers];
        private readonly Tensor?[] _mlp = new Tensor?[g.NLayers];
        private Tensor? _input;
        private Tensor[]? _residPre;

        /// <param name="residPre">When given, the input is read from its slot 0 after the forward (it may be replaced).</param>
        public IEnumerable<(string, HookFunction)> Hooks(Tensor[]? residPre)
        {
            _residPre = residPre;
            if (residPre is null)
                yield return ("blocks.0.hook_resid_pre", (act, h) => { _input = act.detach().MoveToOuterDisposeScope(); return null; });
            for (int l = 0; l < g.NLayers; l++)
            {
                int layer = l;
                yield return ($"blocks.{l}.attn.hook_z", (act, h) => { _z[layer] = act.detach().MoveToOuterDisposeScope(); return null; });
                yield return ($"blocks.{l}.hook_mlp_out", (act, h) => { _mlp[layer] = act.detach().MoveToOuterDisposeScope(); return null; });
            }
        }

        /// <summary>[b, n_fwd, p, d]: input, then per layer the heads' results and the MLP output (b_O excluded).</summary>
        public Tensor Sources()
        {
            using var _ = no_grad();
            return cat(Groups().ToArray(), 1);
        }

        /// <summary>target [b, n_fwd, p, d] −= these sources, one source group at a time (no full-size temporary).</summary>
        public void SubtractFrom(Tensor target)
        {
            using var _ = no_grad();
            int start = 0;
            foreach (var part in Groups())
            {
                // Each group's tensor is made by the enumerator, outside any scope of this loop: free it here.
                int width = (int)part.shape[1];
                using (part) target.narrow(1, start, width).sub_(part);
                start += width;
            }
        }

        private IEnumerable<Tensor> Groups()
        {
            var input = _residPre is not null ? _residPre[0].detach() : _input!;
            yield return input.unsqueeze(1);
            for (int l = 0; l < g.NLayers; l++)
            {
                yield return model.Blocks[l].attn.HeadOutputs(_z[l]!).transpose(1, 2);
                yield return _mlp[l]!.unsqueeze(1);
            }
        }
    }

}
