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
    /// No-grad forward: answer-position logits [b, V] (<see cref="AnswerLogits"/>), source outputs node-major [n_fwd, b, p, d] (written in place as the forward runs: no
    /// per-layer copies are kept), and, with <paramref name="withResiduals"/>, the residual every destination group
    /// reads: index 2l = resid_pre of layer l (q/k/v inputs), 2l + 1 = MLP l input, 2L = final residual.
    /// </summary>
    internal static (Tensor AnswerLogits, Tensor Sources, Tensor[]? Residuals) CaptureSources(HookedTransformer model, CircuitGraph g,
        Tensor tokens, Tensor? mask, Metric metric, bool withResiduals)
    {
        using var _ = no_grad();
        using var mode = AnalysisMode.Plain(model);
        var sources = empty([g.ForwardCount, tokens.shape[0], tokens.shape[1], model.Config.DModel], dtype: model.DType, device: model.Device);
        var hooks = SourceHooks(model, g, sources, subtract: false).ToList();
        hooks.Add(("blocks.0.hook_resid_pre", (act, h) => { sources[0].copy_(act); return null; }));
        int L = g.NLayers;
        Tensor[]? residuals = null;
        if (withResiduals)
        {
            var slots = residuals = new Tensor[2 * L + 1];
            for (int l = 0; l < L; l++)
            {
                int slot = l;
                hooks.Add(($"blocks.{l}.hook_resid_pre", (act, h) => { slots[2 * slot] = act.detach().MoveToOuterDisposeScope(); return null; }));
                hooks.Add(($"blocks.{l}.hook_mlp_in", (act, h) => { slots[2 * slot + 1] = act.detach().MoveToOuterDisposeScope(); return null; }));
            }
            hooks.Add(($"blocks.{L - 1}.hook_resid_post", (act, h) => { slots[2 * L] = act.detach().MoveToOuterDisposeScope(); return null; }));
        }
        Tensor answer;
        using (model.AddHooks(hooks)) answer = AnswerLogits(model, metric, tokens, mask);
        return (answer, sources, residuals);
    }

    /// <summary>A forward to the final residual, then the logits at the answer positions only (<see cref="Metric.UnembedAtAnswers"/>).</summary>
    /// <remarks><paramref name="tokens"/> may hold <paramref name="copies"/> stacked copies of the metric's rows.</remarks>
    internal static Tensor AnswerLogits(HookedTransformer model, Metric metric, Tensor tokens, Tensor? mask, int copies = 1) =>
        metric.UnembedAtAnswers(model, model.ForwardResidual(tokens, mask, model.Config.NLayers), copies);

    /// <summary>Node-major sources [n_fwd, b, p, d] → [n_fwd, b·p·d] (a view), the layout edge-patched forwards read.</summary>
    internal static Tensor NodeMajor(Tensor sources) => sources.view(sources.shape[0], -1);

    /// <summary>
    /// Hooks that write (or, with <paramref name="subtract"/>, subtract) each head's result (z_h · W_O[h], b_O excluded)
    /// and each MLP output into <paramref name="target"/> [n_fwd, b, p, d] as the forward runs. The input source is
    /// left to the caller, who may replace it.
    /// </summary>
    private static IEnumerable<(string, HookFunction)> SourceHooks(HookedTransformer model, CircuitGraph g, Tensor target, bool subtract)
    {
        void Write(Tensor slot, Tensor value)
        {
            using var _ = no_grad();
            if (subtract) slot.sub_(value); else slot.copy_(value);
        }
        for (int l = 0; l < g.NLayers; l++)
        {
            int layer = l;
            yield return ($"blocks.{l}.attn.hook_z", (act, h) =>
            {
                Tensor heads;
                using (no_grad()) heads = model.Blocks[layer].attn.HeadOutputs(act.detach()); // [b, p, H, d]
                using (heads) Write(target.narrow(0, g.HeadIndex(layer, 0), g.NHeads), heads.permute(2, 0, 1, 3));
                return null;
            });
            yield return ($"blocks.{l}.hook_mlp_out", (act, h) => { Write(target[g.MlpIndex(layer)], act.detach()); return null; });
        }
    }

    /// <summary>
    /// One forward with autograd (with <paramref name="perturb"/>.Add added to the activation at its hook, for
    /// interpolation) and one backward of Σ_rows metric; adds Σ_{p,d} ∂M/∂input_v · diffs_u into
    /// <paramref name="acc"/> [b, n_bwd, n_fwd], for the sources u in <paramref name="sources"/> (all when null).
    /// With <paramref name="subtractOwnSources"/>, this run's source outputs are subtracted from
    /// <paramref name="diffs"/> [n_fwd, b, p, d] in place as the forward runs (pass the corrupted sources; they become
    /// corrupt − clean). What the scores need is freed as soon as it is used: activations and gradients layer by layer,
    /// the q, k and v destinations of a layer one third at a time.
    /// </summary>
    internal static void AccumulateScores(HookedTransformer model, CircuitGraph g, Tensor tokens, Tensor? mask, Metric metric,
        Perturbation? perturb, Tensor diffs, bool subtractOwnSources, Tensor acc, (int Start, int Width)? sources = null)
    {
        using var scope = NewDisposeScope();
        using var mode = AnalysisMode.Plain(model);
        int L = g.NLayers, H = g.NHeads;
        var residPre = new Tensor[L];
        var qkv = new Tensor[3 * L];
        var mlpIn = new Tensor[L];
        Tensor? final = null;
        var hooks = new List<(string, HookFunction)>();
        Tensor metricSum, logits;
        using (enable_grad())
        {
            if (perturb is { } pt && pt.Hook != "blocks.0.hook_resid_pre") hooks.Add((pt.Hook, (act, h) => act + pt.Add));
            // The input is a fresh leaf so gradients flow even when every parameter is frozen.
            hooks.Add(("blocks.0.hook_resid_pre", (act, h) =>
            {
                var x = perturb is { Hook: "blocks.0.hook_resid_pre" } p0 ? act + p0.Add : act;
                residPre[0] = x.detach().requires_grad_(true).MoveToOuterDisposeScope();
                if (subtractOwnSources) using (no_grad()) diffs[0].sub_(residPre[0].detach());
                return residPre[0];
            }));
            for (int l = 1; l < L; l++)
            {
                int layer = l;
                hooks.Add(($"blocks.{l}.hook_resid_pre", (act, h) => { residPre[layer] = act.MoveToOuterDisposeScope(); return null; }));
            }
            if (subtractOwnSources) hooks.AddRange(SourceHooks(model, g, diffs, subtract: true));
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
            using (model.AddHooks(hooks)) logits = AnswerLogits(model, metric, tokens, mask);
            metricSum = metric.PerExampleAtAnswer(logits).sum();
        }
        var targets = qkv.Concat(mlpIn).Append(final!).ToArray();
        var grads = autograd.grad([metricSum], targets, allow_unused: true);
        logits.Dispose();
        long b = tokens.shape[0], p = tokens.shape[1], d = model.Config.DModel;
        var diffsT = diffs.view(g.ForwardCount, b, p * d).permute(1, 2, 0); // [b, p·d, n_fwd], a view
        var (first, count) = sources ?? (0, g.ForwardCount);
        int End(int j) => Math.Min(first + count, g.PrefixLength(j)); // only upstream sources feed destination j
        // Frees a destination's activation and gradient once contracted.
        Tensor Take(int i)
        {
            var grad = grads[i] is null || grads[i].IsInvalid ? zeros_like(targets[i]) : grads[i].detach();
            targets[i].Dispose();
            return grad;
        }
        using var _ = no_grad();
        for (int l = 0; l < L; l++)
        {
            using var layerScope = NewDisposeScope();
            var attn = model.Blocks[l].attn;
            int j0 = g.HeadInputIndex(l, 0, QkvInput.Q), jm = g.MlpInputIndex(l);
            var x = residPre[l].detach().unsqueeze(0);
            for (int kind = 0; kind < 3; kind++)
            {
                using var kindScope = NewDisposeScope();
                var gOut = Take(3 * l + kind); // [b, p, H, dh]
                long dh = gOut.shape[3];
                var gNorm = gOut.permute(2, 0, 1, 3).reshape(H, b * p, dh).bmm(attn.InputWeight(kind).transpose(1, 2)).view(H, b, p, d);
                var gIn = model.Blocks[l].ln1.InputGradientInPlace(x, gNorm);
                Contract(acc, gIn.view(H, b, p * d).transpose(0, 1), diffsT, j0 + kind * H, first, End(j0));
            }
            Contract(acc, Take(3 * L + l).reshape(b, 1, p * d), diffsT, jm, first, End(jm));
            residPre[l].Dispose();
        }
        Contract(acc, Take(4 * L).reshape(b, 1, p * d), diffsT, g.LogitsInput, first, End(g.LogitsInput));
    }

    /// <summary>acc[:, j0 .. j0 + width, u0 .. u1] += grads [b, width, p·d] × diffsT[:, :, u0 .. u1].</summary>
    private static void Contract(Tensor acc, Tensor grads, Tensor diffsT, int j0, int u0, int u1)
    {
        if (u1 <= u0) return;
        acc.narrow(1, j0, grads.shape[1]).narrow(2, u0, u1 - u0).add_(grads.bmm(diffsT.narrow(2, u0, u1 - u0)));
    }
}
