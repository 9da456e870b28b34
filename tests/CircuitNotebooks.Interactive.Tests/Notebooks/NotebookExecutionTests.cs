using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace CircuitNotebooks.Interactive.Tests.Notebooks;

/// <summary>
/// Executes every committed notebook end to end on the tiny default model with fast parameters, and checks what it
/// printed and displayed against values computed independently (the model's config.json, closed forms, identities).
/// </summary>
public class NotebookExecutionTests(ITestOutputHelper log)
{
    private static JsonObject HfConfig => JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.DefaultModel, "config.json")))!.AsObject();

    [Fact]
    public async Task Quickstart()
    {
        var nb = await ExecutedNotebook.RunAsync("01-quickstart", log);
        var cfg = HfConfig;
        int d = cfg["hidden_size"]!.GetValue<int>(), heads = cfg["num_attention_heads"]!.GetValue<int>(),
            dMlp = cfg["intermediate_size"]!.GetValue<int>(), layers = cfg["num_hidden_layers"]!.GetValue<int>();
        const int positions = 5; // <bos> 72 - 46 = : the word-level tokenizer makes every word and symbol one token
        Assert.Equal($"[1, {positions}, {d}]", nb.Printed("hook_embed"));
        Assert.Equal($"[1, {positions}, {d}]", nb.Printed("blocks.0.hook_resid_pre"));
        Assert.Equal($"[1, {positions}, {heads}, {d / heads}]", nb.Printed("blocks.0.attn.hook_q"));
        Assert.Equal($"[1, {heads}, {positions}, {positions}]", nb.Printed("blocks.0.attn.hook_pattern"));
        Assert.Equal($"[1, {positions}, {dMlp}]", nb.Printed("blocks.0.mlp.hook_post"));
        Assert.Contains(nb.Html, h => h.Contains("HookedTransformer") && h.Contains(">GptNeoX<"));

        // Direct logit attribution is additive: the components sum to the logit up to the constant bias terms.
        var line = nb.Stdout.Split('\n').Single(l => l.StartsWith("logit ", StringComparison.Ordinal));
        Assert.Matches(@"^logit -?\d+\.\d{3}; sum of components -?\d+\.\d{3}$", line);

        // The CSV export: one row per cache entry; the pattern row's shape and element count from the config.
        var csv = File.ReadAllLines(Path.Combine(nb.OutDir, "cache_shapes.csv"));
        Assert.Equal("name,shape,rank,elements", csv[0]);
        Assert.Contains($"blocks.0.attn.hook_pattern,\"[1, {heads}, {positions}, {positions}]\",4,{heads * positions * positions}", csv);
        Assert.Equal(layers, csv.Count(l => l.StartsWith("blocks.", StringComparison.Ordinal) && l.Split(',')[0].EndsWith(".hook_resid_post", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ActivationAndPathPatching()
    {
        var nb = await ExecutedNotebook.RunAsync("02-activation-and-path-patching", log, "examples=8");
        Assert.True(nb.PrintedNumber("clean logit diff") > nb.PrintedNumber("corrupted logit diff"));

        // At layer 0 the residual stream is the embedding: patching the operator (position 2 of "<bos> 72 - 46 =")
        // restores the clean run exactly, and every other position, identical in both prompts, changes nothing.
        var resid = Csv.Read(Path.Combine(nb.OutDir, "resid_pre.csv"));
        foreach (var row in resid.Where(r => r["row_index"] == "0"))
            Assert.Equal(row["column_index"] == "2" ? 1.0 : 0.0, Csv.Number(row["value"]), 3);

        // Senders in the receiver's layer or later cannot reach its inputs: their path-patching effect is zero.
        var receiver = nb.Printed("receiver");
        int receiverLayer = int.Parse(receiver[1..receiver.IndexOf('.')]);
        var into = Csv.Read(Path.Combine(nb.OutDir, "into_head.csv"));
        Assert.Equal(4 * 4, into.Count);
        foreach (var row in into.Where(r => int.Parse(r["row_index"]) >= receiverLayer))
            Assert.Equal(0.0, Csv.Number(row["value"]), 4);
    }
}

/// <summary>A minimal CSV reader for the notebooks' exports (quoted fields may contain commas).</summary>
internal static class Csv
{
    public static List<Dictionary<string, string>> Read(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = Split(lines[0]);
        return lines.Skip(1).Where(l => l.Length > 0).Select(l =>
        {
            var cells = Split(l);
            return header.Select((h, i) => (h, v: cells[i])).ToDictionary(x => x.h, x => x.v);
        }).ToList();
    }

    public static double Number(string s) => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture);

    private static List<string> Split(string line)
    {
        var cells = new List<string>();
        var sb = new System.Text.StringBuilder();
        bool quoted = false;
        foreach (var ch in line)
        {
            if (ch == '"') quoted = !quoted;
            else if (ch == ',' && !quoted) { cells.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(ch);
        }
        cells.Add(sb.ToString());
        return cells;
    }
}
