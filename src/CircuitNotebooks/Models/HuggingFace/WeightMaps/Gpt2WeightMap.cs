using static TorchSharp.torch;
using static CircuitNotebooks.Models.HfWeightMap;

namespace CircuitNotebooks.Models;

/// <summary>
/// GPT-2: Conv1D weights are stored in → out; c_attn packs [q | k | v] along the output axis, heads contiguous
/// within each block. The "transformer." prefix is optional on input and always written on output.
/// </summary>
internal static class Gpt2WeightMap
{
    public static Dictionary<string, Tensor> ToTl(ModelConfig c, StateDictReader r)
    {
        string p = r.Has("transformer.wte.weight") ? "transformer." : "";
        long d = c.DModel, h = c.NHeads;
        var tl = new Dictionary<string, Tensor>();
        var wE = r.Take($"{p}wte.weight", c.DVocab, d);
        if (wE is not null) tl["embed.W_E"] = HeadLayout.Share(wE);
        if (r.Take($"{p}wpe.weight", c.NCtx, d) is { } wpe) tl["pos_embed.W_pos"] = HeadLayout.Share(wpe);
        for (int l = 0; l < c.NLayers; l++)
        {
            string hp = $"{p}h.{l}.";
            LayerNormToTl(r, tl, hp + "ln_1", B(l, "ln1"), d);
            LayerNormToTl(r, tl, hp + "ln_2", B(l, "ln2"), d);
            if (r.Take(hp + "attn.c_attn.weight", d, 3 * d) is { } qkv)
            {
                var parts = qkv.split(d, 1);
                tl[B(l, "attn.W_Q")] = HeadLayout.SplitIn(parts[0], h);
                tl[B(l, "attn.W_K")] = HeadLayout.SplitIn(parts[1], h);
                tl[B(l, "attn.W_V")] = HeadLayout.SplitIn(parts[2], h);
            }
            if (r.Take(hp + "attn.c_attn.bias", 3 * d) is { } qkvB)
            {
                var parts = qkvB.split(d, 0);
                tl[B(l, "attn.b_Q")] = parts[0].reshape(h, -1).contiguous();
                tl[B(l, "attn.b_K")] = parts[1].reshape(h, -1).contiguous();
                tl[B(l, "attn.b_V")] = parts[2].reshape(h, -1).contiguous();
            }
            if (r.Take(hp + "attn.c_proj.weight", d, d) is { } o) tl[B(l, "attn.W_O")] = HeadLayout.SplitOut(o, h);
            if (r.Take(hp + "attn.c_proj.bias", d) is { } ob) tl[B(l, "attn.b_O")] = HeadLayout.Share(ob);
            if (r.Take(hp + "mlp.c_fc.weight", d, c.DMlp) is { } wi) tl[B(l, "mlp.W_in")] = HeadLayout.Share(wi);
            if (r.Take(hp + "mlp.c_fc.bias", c.DMlp) is { } bi) tl[B(l, "mlp.b_in")] = HeadLayout.Share(bi);
            if (r.Take(hp + "mlp.c_proj.weight", c.DMlp, d) is { } wo) tl[B(l, "mlp.W_out")] = HeadLayout.Share(wo);
            if (r.Take(hp + "mlp.c_proj.bias", d) is { } bo) tl[B(l, "mlp.b_out")] = HeadLayout.Share(bo);
        }
        LayerNormToTl(r, tl, $"{p}ln_f", "ln_final", d);
        UnembedToTl(c, r, tl, "lm_head.weight", wE);
        return tl;
    }

    public static Dictionary<string, Tensor> ToHf(ModelConfig c, StateDictReader r)
    {
        const string p = "transformer.";
        long d = c.DModel, h = c.NHeads, dh = c.DHead;
        var hf = new Dictionary<string, Tensor>();
        var wE = r.Take("embed.W_E", c.DVocab, d);
        if (wE is not null) hf[$"{p}wte.weight"] = HeadLayout.Share(wE);
        if (r.Take("pos_embed.W_pos", c.NCtx, d) is { } wpe) hf[$"{p}wpe.weight"] = HeadLayout.Share(wpe);
        for (int l = 0; l < c.NLayers; l++)
        {
            string hp = $"{p}h.{l}.";
            LayerNormToHf(r, hf, B(l, "ln1"), hp + "ln_1", d);
            LayerNormToHf(r, hf, B(l, "ln2"), hp + "ln_2", d);
            var q = r.Take(B(l, "attn.W_Q"), h, d, dh);
            var k = r.Take(B(l, "attn.W_K"), h, d, dh);
            var v = r.Take(B(l, "attn.W_V"), h, d, dh);
            if (q is not null && k is not null && v is not null)
                hf[hp + "attn.c_attn.weight"] = cat([HeadLayout.MergeIn(q), HeadLayout.MergeIn(k), HeadLayout.MergeIn(v)], 1);
            var bq = r.Take(B(l, "attn.b_Q"), h, dh);
            var bk = r.Take(B(l, "attn.b_K"), h, dh);
            var bv = r.Take(B(l, "attn.b_V"), h, dh);
            if (bq is not null && bk is not null && bv is not null)
                hf[hp + "attn.c_attn.bias"] = cat([bq.reshape(-1), bk.reshape(-1), bv.reshape(-1)], 0);
            if (r.Take(B(l, "attn.W_O"), h, dh, d) is { } o) hf[hp + "attn.c_proj.weight"] = HeadLayout.MergeOut(o);
            if (r.Take(B(l, "attn.b_O"), d) is { } ob) hf[hp + "attn.c_proj.bias"] = HeadLayout.Share(ob);
            if (r.Take(B(l, "mlp.W_in"), d, c.DMlp) is { } wi) hf[hp + "mlp.c_fc.weight"] = HeadLayout.Share(wi);
            if (r.Take(B(l, "mlp.b_in"), c.DMlp) is { } bi) hf[hp + "mlp.c_fc.bias"] = HeadLayout.Share(bi);
            if (r.Take(B(l, "mlp.W_out"), c.DMlp, d) is { } wo) hf[hp + "mlp.c_proj.weight"] = HeadLayout.Share(wo);
            if (r.Take(B(l, "mlp.b_out"), d) is { } bo) hf[hp + "mlp.c_proj.bias"] = HeadLayout.Share(bo);
        }
        LayerNormToHf(r, hf, "ln_final", $"{p}ln_f", d);
        UnembedToHf(c, r, hf, "lm_head.weight", wE);
        return hf;
    }

    internal static void LayerNormToTl(StateDictReader r, Dictionary<string, Tensor> tl, string hfName, string tlName, long d)
    {
        if (r.Take(hfName + ".weight", d) is { } w) tl[tlName + ".w"] = HeadLayout.Share(w);
        if (r.Take(hfName + ".bias", d) is { } b) tl[tlName + ".b"] = HeadLayout.Share(b);
    }

    internal static void LayerNormToHf(StateDictReader r, Dictionary<string, Tensor> hf, string tlName, string hfName, long d)
    {
        if (r.Take(tlName + ".w", d) is { } w) hf[hfName + ".weight"] = HeadLayout.Share(w);
        if (r.Take(tlName + ".b", d) is { } b) hf[hfName + ".bias"] = HeadLayout.Share(b);
    }
}
