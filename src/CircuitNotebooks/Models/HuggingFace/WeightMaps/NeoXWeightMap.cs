using static TorchSharp.torch;
using static CircuitNotebooks.Models.HfWeightMap;
using static CircuitNotebooks.Models.Gpt2WeightMap;

namespace CircuitNotebooks.Models;

/// <summary>
/// GPT-NeoX / Pythia: Linear weights [out, in]. query_key_value interleaves per head: its output rows are laid out
/// [n_heads, 3 (q,k,v), d_head], unlike GPT-2's [3, n_heads, d_head].
/// </summary>
internal static class NeoXWeightMap
{
    public static Dictionary<string, Tensor> ToTl(ModelConfig c, StateDictReader r)
    {
        long d = c.DModel, h = c.NHeads, dh = c.DHead;
        var tl = new Dictionary<string, Tensor>();
        var wE = r.Take("gpt_neox.embed_in.weight", c.DVocab, d);
        if (wE is not null) tl["embed.W_E"] = HeadLayout.Share(wE);
        for (int l = 0; l < c.NLayers; l++)
        {
            string hp = $"gpt_neox.layers.{l}.";
            LayerNormToTl(r, tl, hp + "input_layernorm", B(l, "ln1"), d);
            LayerNormToTl(r, tl, hp + "post_attention_layernorm", B(l, "ln2"), d);
            if (r.Take(hp + "attention.query_key_value.weight", 3 * d, d) is { } qkv)
            {
                // in → out, output axis split as [head, which, d_head]
                var byWhich = HeadLayout.T(qkv).reshape(d, h, 3, dh);
                string[] names = ["W_Q", "W_K", "W_V"];
                for (int i = 0; i < 3; i++)
                    tl[B(l, "attn." + names[i])] = byWhich.select(2, i).permute(1, 0, 2).contiguous();
            }
            if (c.AttnBias)
            {
                if (r.Take(hp + "attention.query_key_value.bias", 3 * d) is { } qkvB)
                {
                    var byWhich = qkvB.reshape(h, 3, dh);
                    string[] names = ["b_Q", "b_K", "b_V"];
                    for (int i = 0; i < 3; i++) tl[B(l, "attn." + names[i])] = byWhich.select(1, i).contiguous();
                }
                if (r.Take(hp + "attention.dense.bias", d) is { } ob) tl[B(l, "attn.b_O")] = HeadLayout.Share(ob);
            }
            if (r.Take(hp + "attention.dense.weight", d, d) is { } o) tl[B(l, "attn.W_O")] = HeadLayout.SplitOut(HeadLayout.T(o), h);
            if (r.Take(hp + "mlp.dense_h_to_4h.weight", c.DMlp, d) is { } wi) tl[B(l, "mlp.W_in")] = HeadLayout.T(wi);
            if (r.Take(hp + "mlp.dense_h_to_4h.bias", c.DMlp) is { } bi) tl[B(l, "mlp.b_in")] = HeadLayout.Share(bi);
            if (r.Take(hp + "mlp.dense_4h_to_h.weight", d, c.DMlp) is { } wo) tl[B(l, "mlp.W_out")] = HeadLayout.T(wo);
            if (r.Take(hp + "mlp.dense_4h_to_h.bias", d) is { } bo) tl[B(l, "mlp.b_out")] = HeadLayout.Share(bo);
        }
        LayerNormToTl(r, tl, "gpt_neox.final_layer_norm", "ln_final", d);
        UnembedToTl(c, r, tl, "embed_out.weight", wE);
        return tl;
    }

    public static Dictionary<string, Tensor> ToHf(ModelConfig c, StateDictReader r)
    {
        long d = c.DModel, h = c.NHeads, dh = c.DHead;
        var hf = new Dictionary<string, Tensor>();
        var wE = r.Take("embed.W_E", c.DVocab, d);
        if (wE is not null) hf["gpt_neox.embed_in.weight"] = HeadLayout.Share(wE);
        for (int l = 0; l < c.NLayers; l++)
        {
            string hp = $"gpt_neox.layers.{l}.";
            LayerNormToHf(r, hf, B(l, "ln1"), hp + "input_layernorm", d);
            LayerNormToHf(r, hf, B(l, "ln2"), hp + "post_attention_layernorm", d);
            var q = r.Take(B(l, "attn.W_Q"), h, d, dh);
            var k = r.Take(B(l, "attn.W_K"), h, d, dh);
            var v = r.Take(B(l, "attn.W_V"), h, d, dh);
            if (q is not null && k is not null && v is not null)
            {
                // [head, d_model, d_head] ×3 → [d_model, head, which, d_head] → [3·d_model, d_model] rows
                var inOut = stack([q, k, v], 2).permute(1, 0, 2, 3).reshape(d, 3 * d);
                hf[hp + "attention.query_key_value.weight"] = HeadLayout.T(inOut);
            }
            if (c.AttnBias)
            {
                var bq = r.Take(B(l, "attn.b_Q"), h, dh);
                var bk = r.Take(B(l, "attn.b_K"), h, dh);
                var bv = r.Take(B(l, "attn.b_V"), h, dh);
                if (bq is not null && bk is not null && bv is not null)
                    hf[hp + "attention.query_key_value.bias"] = stack([bq, bk, bv], 1).reshape(3 * d).contiguous();
                if (r.Take(B(l, "attn.b_O"), d) is { } ob) hf[hp + "attention.dense.bias"] = HeadLayout.Share(ob);
            }
            if (r.Take(B(l, "attn.W_O"), h, dh, d) is { } o) hf[hp + "attention.dense.weight"] = HeadLayout.T(HeadLayout.MergeOut(o));
            if (r.Take(B(l, "mlp.W_in"), d, c.DMlp) is { } wi) hf[hp + "mlp.dense_h_to_4h.weight"] = HeadLayout.T(wi);
            if (r.Take(B(l, "mlp.b_in"), c.DMlp) is { } bi) hf[hp + "mlp.dense_h_to_4h.bias"] = HeadLayout.Share(bi);
            if (r.Take(B(l, "mlp.W_out"), c.DMlp, d) is { } wo) hf[hp + "mlp.dense_4h_to_h.weight"] = HeadLayout.T(wo);
            if (r.Take(B(l, "mlp.b_out"), d) is { } bo) hf[hp + "mlp.dense_4h_to_h.bias"] = HeadLayout.Share(bo);
        }
        LayerNormToHf(r, hf, "ln_final", "gpt_neox.final_layer_norm", d);
        UnembedToHf(c, r, hf, "embed_out.weight", wE);
        return hf;
    }
}
