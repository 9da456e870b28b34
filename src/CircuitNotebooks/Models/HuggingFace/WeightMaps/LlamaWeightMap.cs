using static TorchSharp.torch;
using static CircuitNotebooks.Models.HfWeightMap;

namespace CircuitNotebooks.Models;

/// <summary>
/// Llama / Mistral / Qwen2 (q/k/v biases without an o_proj bias): separate q/k/v/o Linear projections ([out, in]); k and v have n_kv_heads heads. Weights are
/// already in the rotate_half rotary layout, so no permutation. gate_proj → W_gate, up_proj → W_in, down_proj → W_out.
/// </summary>
internal static class LlamaWeightMap
{
    private static readonly (string Hf, string Tl)[] Qkv = [("q_proj", "Q"), ("k_proj", "K"), ("v_proj", "V")];
    private static readonly (string Hf, string Tl)[] MlpIn = [("gate_proj", "W_gate"), ("up_proj", "W_in")];

    public static Dictionary<string, Tensor> ToTl(ModelConfig c, StateDictReader r)
    {
        long d = c.DModel, dh = c.DHead;
        var tl = new Dictionary<string, Tensor>();
        var wE = r.Take("model.embed_tokens.weight", c.DVocab, d);
        if (wE is not null) tl["embed.W_E"] = HeadLayout.Share(wE);
        for (int l = 0; l < c.NLayers; l++)
        {
            string hp = $"model.layers.{l}.";
            if (r.Take(hp + "input_layernorm.weight", d) is { } n1) tl[B(l, "ln1.w")] = HeadLayout.Share(n1);
            if (r.Take(hp + "post_attention_layernorm.weight", d) is { } n2) tl[B(l, "ln2.w")] = HeadLayout.Share(n2);
            foreach (var (hfName, x) in Qkv)
            {
                long heads = x == "Q" ? c.NHeads : c.KvHeads;
                if (r.Take($"{hp}self_attn.{hfName}.weight", heads * dh, d) is { } w) tl[B(l, $"attn.W_{x}")] = HeadLayout.SplitIn(HeadLayout.T(w), heads);
                if (c.AttnBias && r.Take($"{hp}self_attn.{hfName}.bias", heads * dh) is { } b) tl[B(l, $"attn.b_{x}")] = b.reshape(heads, dh).contiguous();
            }
            if (r.Take(hp + "self_attn.o_proj.weight", d, c.NHeads * dh) is { } o) tl[B(l, "attn.W_O")] = HeadLayout.SplitOut(HeadLayout.T(o), c.NHeads);
            if (c.AttnBias && c.AttnOutBias && r.Take(hp + "self_attn.o_proj.bias", d) is { } ob) tl[B(l, "attn.b_O")] = HeadLayout.Share(ob);
            foreach (var (hfName, tlName) in MlpIn)
            {
                if (r.Take($"{hp}mlp.{hfName}.weight", c.DMlp, d) is { } w) tl[B(l, "mlp." + tlName)] = HeadLayout.T(w);
            }
            if (c.MlpBias)
            {
                // TransformerLens has no gate bias; a checkpoint with one cannot be represented.
                if (r.Has($"{hp}mlp.gate_proj.bias")) { r.Skip($"{hp}mlp.gate_proj.bias"); r.Problem($"'{hp}mlp.gate_proj.bias' has no TransformerLens counterpart"); }
                if (r.Take($"{hp}mlp.up_proj.bias", c.DMlp) is { } bi) tl[B(l, "mlp.b_in")] = HeadLayout.Share(bi);
                if (r.Take($"{hp}mlp.down_proj.bias", d) is { } bo) tl[B(l, "mlp.b_out")] = HeadLayout.Share(bo);
            }
            if (r.Take(hp + "mlp.down_proj.weight", d, c.DMlp) is { } wo) tl[B(l, "mlp.W_out")] = HeadLayout.T(wo);
        }
        if (r.Take("model.norm.weight", d) is { } nf) tl["ln_final.w"] = HeadLayout.Share(nf);
        UnembedToTl(c, r, tl, "lm_head.weight", wE);
        return tl;
    }

    public static Dictionary<string, Tensor> ToHf(ModelConfig c, StateDictReader r)
    {
        long d = c.DModel, dh = c.DHead;
        var hf = new Dictionary<string, Tensor>();
        var wE = r.Take("embed.W_E", c.DVocab, d);
        if (wE is not null) hf["model.embed_tokens.weight"] = HeadLayout.Share(wE);
        for (int l = 0; l < c.NLayers; l++)
        {
            string hp = $"model.layers.{l}.";
            if (r.Take(B(l, "ln1.w"), d) is { } n1) hf[hp + "input_layernorm.weight"] = HeadLayout.Share(n1);
            if (r.Take(B(l, "ln2.w"), d) is { } n2) hf[hp + "post_attention_layernorm.weight"] = HeadLayout.Share(n2);
            foreach (var (hfName, x) in Qkv)
            {
                long heads = x == "Q" ? c.NHeads : c.KvHeads;
                if (r.Take(B(l, $"attn.W_{x}"), heads, d, dh) is { } w) hf[$"{hp}self_attn.{hfName}.weight"] = HeadLayout.T(HeadLayout.MergeIn(w));
                if (c.AttnBias && r.Take(B(l, $"attn.b_{x}"), heads, dh) is { } b) hf[$"{hp}self_attn.{hfName}.bias"] = b.reshape(-1).contiguous();
            }
            if (r.Take(B(l, "attn.W_O"), c.NHeads, dh, d) is { } o) hf[hp + "self_attn.o_proj.weight"] = HeadLayout.T(HeadLayout.MergeOut(o));
            if (c.AttnBias && c.AttnOutBias && r.Take(B(l, "attn.b_O"), d) is { } ob) hf[hp + "self_attn.o_proj.bias"] = HeadLayout.Share(ob);
            foreach (var (hfName, tlName) in MlpIn)
            {
                if (r.Take(B(l, "mlp." + tlName), d, c.DMlp) is { } w) hf[$"{hp}mlp.{hfName}.weight"] = HeadLayout.T(w);
            }
            if (c.MlpBias)
            {
                if (r.Take(B(l, "mlp.b_in"), c.DMlp) is { } bi) hf[$"{hp}mlp.up_proj.bias"] = HeadLayout.Share(bi);
                if (r.Take(B(l, "mlp.b_out"), d) is { } bo) hf[$"{hp}mlp.down_proj.bias"] = HeadLayout.Share(bo);
            }
            if (r.Take(B(l, "mlp.W_out"), c.DMlp, d) is { } wo) hf[hp + "mlp.down_proj.weight"] = HeadLayout.T(wo);
        }
        if (r.Take("ln_final.w", d) is { } nf) hf["model.norm.weight"] = HeadLayout.Share(nf);
        UnembedToHf(c, r, hf, "lm_head.weight", wE);
        return hf;
    }
}
