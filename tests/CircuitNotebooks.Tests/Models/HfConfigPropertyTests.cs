using System.Text.Json.Nodes;
using CircuitNotebooks.Models;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CircuitNotebooks.Tests.Models;

/// <summary>
/// Whatever a config.json holds, <see cref="HfConfigReader"/> either returns a valid config or throws a typed error
/// (<see cref="InvalidDataException"/>, <see cref="NotSupportedException"/>) that names the file and, for a bad
/// value, the field.
/// </summary>
public sealed class HfConfigPropertyTests
{
    private const string Source = "fuzz/config.json";

    private static readonly string[] Bases =
    [
        """{"model_type":"gpt2","n_embd":64,"n_head":4,"n_layer":2,"n_positions":128,"vocab_size":100,"n_inner":null,"activation_function":"gelu_new","layer_norm_epsilon":1e-05}""",
        """{"model_type":"gpt_neox","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":2,"intermediate_size":256,"vocab_size":100,"rotary_pct":0.25,"rotary_emb_base":10000,"use_parallel_residual":true,"hidden_act":"gelu","max_position_embeddings":128,"layer_norm_eps":1e-05}""",
        """{"model_type":"llama","hidden_size":64,"num_attention_heads":4,"num_key_value_heads":2,"num_hidden_layers":2,"intermediate_size":96,"vocab_size":100,"rms_norm_eps":1e-06,"rope_theta":10000.0,"hidden_act":"silu","tie_word_embeddings":false,"max_position_embeddings":128}""",
    ];

    private static readonly string[] Values =
        ["-1", "0", "1", "3", "7", "2.5", "-0.5", "1e308", "-1e308", "99999999999", "1e-300", "\"x\"", "\"gelu\"", "\"silu\"",
         "\"relu\"", "\"gelu_new\"", "null", "true", "false", "[]", "{}", "[1,2]", "\"gpt2\"", "\"gpt_neox\"", "\"llama\"",
         "\"mistral\"", "\"bert\"", "\"\"", "2147483648", "-2147483649", "4.0"];

    private static readonly string[] ExtraFields =
        ["n_inner", "num_key_value_heads", "rotary_pct", "rope_theta", "tie_word_embeddings", "attention_bias", "mlp_bias",
         "head_dim", "partial_rotary_factor", "sliding_window", "rope_scaling", "model_type"];

    /// <summary>1–4 edits of a valid config: a field set to an odd value, removed, or added; sometimes broken text.</summary>
    private static string Mutate(int seed)
    {
        var rng = new Random(seed);
        var obj = JsonNode.Parse(Bases[rng.Next(Bases.Length)])!.AsObject();
        int edits = rng.Next(1, 5);
        for (int e = 0; e < edits; e++)
        {
            var keys = obj.Select(kv => kv.Key).ToList();
            string field = rng.Next(4) == 0 ? ExtraFields[rng.Next(ExtraFields.Length)] : keys.Count > 0 ? keys[rng.Next(keys.Count)] : "model_type";
            if (rng.Next(5) == 0) obj.Remove(field);
            else obj[field] = JsonNode.Parse(Values[rng.Next(Values.Length)]);
        }
        var text = obj.ToJsonString();
        if (rng.Next(10) == 0) text = text.Remove(rng.Next(text.Length), 1);
        return rng.Next(20) == 0 ? "[" + text + "]" : text;
    }

    private static bool OnlyTypedErrors(string json)
    {
        try
        {
            HfConfigReader.Parse(json, Source).Validate(Source);
            return true;
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            // Names the file; a value problem names its field.
            bool namesField = e.Message.Contains("field '") || e.Message.Contains("model_type '") || e.Message.Contains("not valid JSON")
                              || e.Message.Contains("top level");
            return e.Message.StartsWith(Source + ":") && namesField;
        }
    }

    [Fact]
    public void BaseConfigsParse() => Assert.All(Bases, b => HfConfigReader.Parse(b, Source));

    [Fact]
    public void MutatedConfigsOnlyEverRaiseTypedErrorsNamingFileAndField() =>
        Prop.ForAll<int>(seed =>
        {
            var json = Mutate(seed);
            return OnlyTypedErrors(json).Label(json);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(3000));

    [Fact]
    public void ArbitraryStringsOnlyEverRaiseTypedErrors() =>
        Prop.ForAll<string>(s => OnlyTypedErrors(s ?? "")).QuickCheckThrowOnFailure();
}
