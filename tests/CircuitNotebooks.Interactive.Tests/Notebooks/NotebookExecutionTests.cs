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
        // Our formatters, not the kernel's default tree view: model, cache, tensor, patching grid, charts, table.
        Assert.Contains(nb.Html, h => h.Contains("<caption>HookedTransformer</caption>") && h.Contains(">GptNeoX<"));
        int entries = File.ReadAllLines(Path.Combine(nb.OutDir, "cache_shapes.csv")).Length - 1;
        Assert.Contains(nb.Html, h => h.Contains("<caption>ActivationCache</caption>") && h.Contains($"<th>entries</th><td>{entries}</td>"));
        Assert.Contains(nb.Html, h => h.Contains("class=\"cn-tensor\"") && h.Contains($"shape [1, {positions}]"));
        Assert.Contains(nb.Html, h => h.Contains("<caption>Zero-ablating each head") && h.Contains("class=\"cn-chart\""));
        Assert.Contains(nb.Html, h => h.Contains("<th>rank</th><th>token</th><th>probability</th>"));
        Assert.DoesNotContain(nb.Html, h => h.Contains("dni-treeview"));
        Assert.Equal(1, nb.Html.Count(h => h.Contains(CircuitNotebooks.Interactive.Html.PlotlyJs.EmbedMarker + "=")));
        Assert.Equal(4 + 1, nb.Html.Count(h => h.Contains("class=\"cn-chart\"") && !h.Contains("<caption>"))); // 4 patterns + DLA bars

        // Direct logit attribution is additive: with the final norm's scale fixed, the components sum to the logit
        // minus the two constant terms, ln_final.b · W_U[:, t] + b_U[t]. Both sides recomputed here from a plain forward.
        var line = nb.Stdout.Split('\n').Single(l => l.StartsWith("logit ", StringComparison.Ordinal));
        var numbers = System.Text.RegularExpressions.Regex.Match(line, @"^logit (-?\d+\.\d{3}); sum of components (-?\d+\.\d{3})$");
        Assert.True(numbers.Success, line);
        using (var model = CircuitNotebooks.Models.HookedTransformer.FromPretrained(Repo.DefaultModel))
        using (TorchSharp.torch.no_grad())
        using (TorchSharp.torch.NewDisposeScope())
        {
            var logits = model.Forward(model.ToTokens("72 - 46 =")).to_type(TorchSharp.torch.ScalarType.Float64);
            var last = logits[0, -1].data<double>().ToArray();
            int predicted = Array.IndexOf(last, last.Max());
            var wU = model.unembed_W_U.detach().to_type(TorchSharp.torch.ScalarType.Float64);
            double constant = (model.ln_final.b!.detach().to_type(TorchSharp.torch.ScalarType.Float64) * wU[.., predicted]).sum().item<double>()
                              + model.unembed_b_U.detach()[predicted].to_type(TorchSharp.torch.ScalarType.Float64).item<double>();
            Assert.Equal(last[predicted], double.Parse(numbers.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 3);
            Assert.Equal(last[predicted] - constant, double.Parse(numbers.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), 2);
        }

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
        Assert.Equal(HfConfig["num_hidden_layers"]!.GetValue<int>() * HfConfig["num_attention_heads"]!.GetValue<int>(), into.Count);
        foreach (var row in into.Where(r => int.Parse(r["row_index"]) >= receiverLayer))
            Assert.Equal(0.0, Csv.Number(row["value"]), 4);
    }

    [Fact]
    public async Task EapIgCircuitDiscovery()
    {
        var nb = await ExecutedNotebook.RunAsync("03-eap-ig-circuit-discovery", log, "examples=16");
        var cfg = HfConfig;
        int L = cfg["num_hidden_layers"]!.GetValue<int>(), H = cfg["num_attention_heads"]!.GetValue<int>();
        Assert.True(cfg["use_parallel_residual"]!.GetValue<bool>());
        // Closed form for parallel blocks: every q/k/v input and the MLP input of layer l read input + the 5·l earlier nodes.
        int forward = 1 + L * (H + 1);
        int edges = Enumerable.Range(0, L).Sum(l => (3 * H + 1) * (1 + l * (H + 1))) + forward;
        Assert.Equal(forward + 1, (int)nb.PrintedNumber("nodes"));
        Assert.Equal(edges, (int)nb.PrintedNumber("edges"));

        // With every edge in the circuit nothing is patched: faithfulness is exactly 1.
        Assert.Equal(1.0, nb.PrintedNumber("faithfulness at 100% of edges"), 4);
        var curve = Csv.Read(Path.Combine(nb.OutDir, "faithfulness_vs_budget.csv"));
        Assert.Equal(edges, int.Parse(curve[^1]["edges"]));
        Assert.All(curve, r => Assert.Equal(Csv.Number(r["clean"]), Csv.Number(curve[0]["clean"]), 9)); // one clean run for all budgets

        // The saved circuit loads back for this model with the printed size; its edges are the top 5 % before pruning.
        var circuit = CircuitNotebooks.Circuits.CircuitFile.Load(Path.Combine(nb.OutDir, "circuit.json"));
        Assert.Matches($@"^{circuit.NodeCountInCircuit} nodes, {circuit.EdgeCountInCircuit} edges, faithfulness -?\d+\.\d{{3}}$", nb.Printed("circuit"));
        Assert.InRange(circuit.EdgeCountInCircuit, 1, (int)Math.Round(0.05 * edges, MidpointRounding.AwayFromZero));
        Assert.NotNull(circuit.Metadata.Faithfulness);
        var scores = Csv.Read(Path.Combine(nb.OutDir, "edge_scores.csv"));
        Assert.Equal(edges, scores.Count);
        int top5 = (int)Math.Round(0.05 * edges, MidpointRounding.AwayFromZero);
        var threshold = scores.Select(r => Csv.Number(r["abs_score"])).OrderDescending().ElementAt(top5 - 1);
        Assert.All(circuit.EdgesInCircuit(), e => Assert.True(Math.Abs(e.Score) >= threshold - 1e-6));
        Assert.Contains(nb.Html, h => h.Contains("class=\"cn-chart\"") && h.Contains("Circuit"));
    }

    [Fact]
    public async Task CircuitDynamics()
    {
        const int steps = 12, every = 4;
        var nb = await ExecutedNotebook.RunAsync("04-circuit-dynamics", log,
            $"steps={steps}", $"checkpointEvery={every}", "trainExamples=180", "attributionExamples=8", "igSteps=2");
        // Checkpoints at step 0, every `every` steps and the last: one circuit each.
        var expectedSteps = Enumerable.Range(0, steps / every + 1).Select(i => i * every).ToArray();
        var files = Directory.GetFiles(Path.Combine(nb.OutDir, "circuits")).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(expectedSteps.Select(s => $"step-{s:D6}.json"), files);
        var circuits = files.Select(f => CircuitNotebooks.Circuits.CircuitFile.Load(Path.Combine(nb.OutDir, "circuits", f!))).ToArray();

        // The similarity table against Jaccard indices recomputed here from the saved node and edge lists.
        var table = Csv.Read(Path.Combine(nb.OutDir, "similarity.csv"));
        Assert.Equal(circuits.Length, table.Count);
        for (int i = 0; i < circuits.Length; i++)
        {
            Assert.Equal(Jaccard(circuits[0].NodesInCircuit(), circuits[i].NodesInCircuit()), Csv.Number(table[i]["node_jaccard_vs_first"]), 9);
            Assert.Equal(Jaccard(circuits[0].EdgesInCircuit().Select(e => e.Name), circuits[i].EdgesInCircuit().Select(e => e.Name)),
                         Csv.Number(table[i]["edge_jaccard_vs_first"]), 9);
        }
        Assert.Equal(Csv.Number(table[^1]["node_jaccard_vs_first"]), nb.PrintedNumber("final node Jaccard vs base"), 3);

        // Step 0 is the base model: B = 0 in every adapter. The training log has one loss per step.
        var training = Csv.Read(Path.Combine(nb.OutDir, "training.csv"));
        Assert.Equal(Enumerable.Range(0, steps + 1).Select(s => s.ToString()), training.Select(r => r["step"]));
        Assert.Contains(nb.Html, h => h.Contains("node similarity") && h.Contains("edge similarity"));
    }

    [Fact]
    public async Task CircuitLoRaVersusLoRa()
    {
        var nb = await ExecutedNotebook.RunAsync("05-circuitlora-vs-lora", log,
            "steps=6", "trainExamples=90", "attributionExamples=8", "igSteps=2", "loraRank=8", "criticalLayers=2");
        var cfg = HfConfig;
        int d = cfg["hidden_size"]!.GetValue<int>(), dMlp = cfg["intermediate_size"]!.GetValue<int>(), L = cfg["num_hidden_layers"]!.GetValue<int>();
        // LoRA on Q, K, V, O (d → d) and the MLP's in (d → d_mlp) and out (d_mlp → d): r·(d_in + d_out) each.
        long perRank = 4 * (2L * d) + 2 * ((long)d + dMlp);
        var ranks = nb.Printed("ranks").Split(' ').Select(p => int.Parse(p.Split('=')[1])).ToArray();
        var sizes = nb.Printed("trainable parameters").Split(", ").Select(p => long.Parse(p.Split(' ')[^1])).ToArray();
        Assert.Equal(8 * perRank * L, sizes[0]);
        Assert.Equal(perRank * ((L - 2) * ranks[0] + 2 * ranks[1]), sizes[1]);
        Assert.Equal(sizes[1], sizes[2]); // the control has the same ranks on other layers
        Assert.InRange((double)sizes[1] / sizes[0], 0.98, 1.02);

        // Edge change per layer recomputed from the saved circuits: |Δs| for edges in both, |s| for edges in one.
        var before = CircuitNotebooks.Circuits.CircuitFile.Load(Path.Combine(nb.OutDir, "circuit_before.json"));
        var after = CircuitNotebooks.Circuits.CircuitFile.Load(Path.Combine(nb.OutDir, "circuit_after_lora.json"));
        var expected = LayerEdgeChange(before, after, L);
        var table = Csv.Read(Path.Combine(nb.OutDir, "layer_edge_change.csv"));
        for (int l = 0; l < L; l++) Assert.Equal(expected[l], Csv.Number(table[l]["change"]), 4);
        Assert.Equal(CriticalLayers(before, after, L, 2), nb.Printed("critical layers"));
        Assert.Equal(3, Csv.Read(Path.Combine(nb.OutDir, "comparison.csv")).Count);
    }

    [Fact]
    public async Task CompositionalTasks()
    {
        var nb = await ExecutedNotebook.RunAsync("06-compositional-tasks", log, "examples=8", "igSteps=2", "steps=4", "trainExamples=60");
        CircuitNotebooks.Circuits.Circuit Load(string name) => CircuitNotebooks.Circuits.CircuitFile.Load(Path.Combine(nb.OutDir, $"circuit_{name}.json"));
        var (composite, bracket, outer, union) = (Load("composite"), Load("bracket"), Load("outer"), Load("union"));

        // The union keeps min(composite edge count, |bracket ∪ outer|) edges, all from the sub-task circuits, and a shared
        // edge's score is the mean of the two.
        var b = bracket.EdgesInCircuit().ToDictionary(e => e.Name, e => e.Score);
        var o = outer.EdgesInCircuit().ToDictionary(e => e.Name, e => e.Score);
        var unionEdges = union.EdgesInCircuit().ToList();
        Assert.Equal(Math.Min(composite.EdgeCountInCircuit, b.Keys.Union(o.Keys).Count()), unionEdges.Count);
        Assert.Equal(unionEdges.Count, (int)nb.PrintedNumber("union edges"));
        foreach (var e in unionEdges)
        {
            Assert.True(b.ContainsKey(e.Name) || o.ContainsKey(e.Name), e.Name);
            if (b.TryGetValue(e.Name, out var sb) && o.TryGetValue(e.Name, out var so)) Assert.Equal((sb + so) / 2, e.Score, 5);
        }
        // Nodes: exactly the endpoints of the kept edges (isolated nodes dropped).
        var endpoints = unionEdges.SelectMany(e => new[] { e.Name[..e.Name.IndexOf("->")], Node(e.Name[(e.Name.IndexOf("->") + 2)..]) }).ToHashSet();
        Assert.Equal(endpoints.Order(), union.NodesInCircuit().Order());

        var curve = Csv.Read(Path.Combine(nb.OutDir, "faithfulness_vs_budget.csv"));
        Assert.Equal(1.0, Csv.Number(curve[^1]["union"]), 4);
        Assert.Equal(1.0, Csv.Number(curve[^1]["composite"]), 4);
        // Critical layers recomputed from the saved before/after circuits: the top-2 layers by edge-score change.
        int layers = HfConfig["num_hidden_layers"]!.GetValue<int>();
        Assert.Equal(CriticalLayers(composite, Load("composite_after"), layers, 2), nb.Printed("critical layers from the composite circuit"));
        Assert.Equal(CriticalLayers(union, Load("union_after"), layers, 2), nb.Printed("critical layers from the union circuit"));
    }

    [Fact]
    public async Task EntityTracking()
    {
        const int topK = 2;
        const double threshold = -0.01;
        var nb = await ExecutedNotebook.RunAsync("07-entity-tracking", log, "testExamples=48", "patchingExamples=48", $"topK={topK}",
            $"threshold={threshold.ToString(System.Globalization.CultureInfo.InvariantCulture)}", "referenceExamples=48", "randomCircuits=2",
            "dcmTrain=32", "dcmEval=32", "dcmEpochs=1", "ftExamples=64", "ftSteps=4", "ftBatchSize=16");
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.EntityModel, "config.json")))!.AsObject();
        int L = cfg["num_hidden_layers"]!.GetValue<int>(), H = cfg["num_attention_heads"]!.GetValue<int>();

        // The printed accuracy against argmax of single-prompt forwards (no padding, no batching) on the saved test set.
        var testSet = Csv.Read(Path.Combine(nb.OutDir, "test_set.csv"));
        Assert.Equal(48, testSet.Count);
        using (var model = CircuitNotebooks.Models.HookedTransformer.FromPretrained(Repo.EntityModel))
        using (TorchSharp.torch.no_grad())
        {
            int correct = 0;
            foreach (var row in testSet)
            {
                using var scope = TorchSharp.torch.NewDisposeScope();
                var ids = model.Encode(row["prompt"]);
                var logits = model.Forward(TorchSharp.torch.tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length]), null);
                var last = logits[0, ids.Length - 1].to_type(TorchSharp.torch.ScalarType.Float64).data<double>().ToArray();
                int argmax = Array.IndexOf(last, last.Max());
                var label = model.Encode(" " + row["label"], prependBos: false);
                if (label.Length == 1 && argmax == label[0]) correct++;
            }
            Assert.Equal(correct / 48.0, nb.PrintedNumber("accuracy"), 3);
        }

        // Groups: each is the (at most) topK most negative heads at or below the threshold of its own score grid, and a
        // step's grid is blank exactly in and above the top layer of the previous group's heads (they cannot reach it).
        var groups = Csv.Read(Path.Combine(nb.OutDir, "groups.csv"));
        Assert.Equal(new[] { "A", "B", "C", "D" }, groups.Select(g => g["group"]));
        var heads = groups.ToDictionary(g => g["group"], g => g["heads"].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        // The notebook's extra step Q scores heads at the query label through A's values.
        Assert.NotEmpty(heads["A"]);
        heads["Q"] = nb.Printed("Q").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (var (group, previous) in new (string, string?)[] { ("A", null), ("B", "A"), ("C", "B"), ("D", "C"), ("Q", "A") })
        {
            var grid = Csv.Read(Path.Combine(nb.OutDir, $"scores_{group}.csv"));
            Assert.Equal(L * H, grid.Count);
            int reach = previous is null ? L : heads[previous].Length == 0 ? 0 : heads[previous].Max(Layer);
            foreach (var cell in grid)
                Assert.Equal(int.Parse(cell["layer"]) >= reach, double.IsNaN(Score(cell)));
            var expected = grid.Where(c => !double.IsNaN(Score(c)) && Score(c) <= threshold)
                .OrderBy(Score).ThenBy(c => int.Parse(c["layer"])).ThenBy(c => int.Parse(c["head"]))
                .Take(topK).Select(c => $"a{c["layer"]}.h{c["head"]}");
            Assert.Equal(expected, heads[group]);
        }
        // Sites are (head, role): A and B share the last token, C and Q the query label.
        int sites = heads.Values.Sum(h => h.Length) - heads["A"].Intersect(heads["B"]).Count() - heads["C"].Intersect(heads["Q"]).Count();
        Assert.Equal(sites, (int)nb.PrintedNumber("circuit sites"));

        // Mean ablation of nothing (every head kept at every token) is the model itself: faithfulness exactly 1.
        Assert.Equal("1.000", nb.Printed("faithfulness of every head at every token"));
        Assert.Equal(nb.PrintedNumber("circuit accuracy") / nb.PrintedNumber("accuracy"), nb.PrintedNumber("faithfulness"), 2);
        foreach (var row in Csv.Read(Path.Combine(nb.OutDir, "completeness.csv")))
            Assert.Equal(Math.Abs(Csv.Number(row["circuit_without"]) - Csv.Number(row["model_without"])), Csv.Number(row["completeness"]), 9);

        // DCM selects heads of the group it masks, and the fraction is |selected| / |group|.
        var dcm = Csv.Read(Path.Combine(nb.OutDir, "dcm.csv"));
        Assert.Equal(3 * heads.Values.Count(h => h.Length > 0), dcm.Count);
        foreach (var row in dcm)
        {
            var group = heads[row["group"]];
            Assert.Equal(group, row["group_heads"].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            var selected = row["selected"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Subset(group.ToHashSet(), selected.ToHashSet());
            Assert.Equal((double)selected.Length / group.Length, Csv.Number(row["fraction_selected"]), 9);
        }

        // CMAP of the base model into itself changes nothing; the training log has one row per step.
        var identity = nb.Printed("CMAP base into base");
        Assert.Equal(identity.Split(' ')[0], identity.Split("(base ")[1].TrimEnd(')'));
        Assert.Equal(Enumerable.Range(0, 5).Select(s => s.ToString()), Csv.Read(Path.Combine(nb.OutDir, "training.csv")).Select(r => r["step"]));
        var cmap = Csv.Read(Path.Combine(nb.OutDir, "cmap.csv"));
        Assert.Equal(heads.Where(h => h.Value.Length > 0).Select(h => $"group {h.Key}").Prepend("circuit").Append("random sites"), cmap.Select(r => r["patched"]));
        Assert.Contains(nb.Html, h => h.Contains("class=\"cn-chart\"") && h.Contains("CMAP"));
    }

    private static int Layer(string head) => int.Parse(head[1..head.IndexOf('.')]);

    /// <summary>Per source layer: Σ |s_after − s_before| over edges in both circuits, |s| over edges in one.</summary>
    private static double[] LayerEdgeChange(CircuitNotebooks.Circuits.Circuit before, CircuitNotebooks.Circuits.Circuit after, int layers)
    {
        var b = before.EdgesInCircuit().ToDictionary(e => e.Name, e => (double)e.Score);
        var a = after.EdgesInCircuit().ToDictionary(e => e.Name, e => (double)e.Score);
        var change = new double[layers];
        foreach (var name in b.Keys.Union(a.Keys))
        {
            var source = name[..name.IndexOf("->", StringComparison.Ordinal)];
            int layer = source == "input" ? 0 : int.Parse(source[1..(source.Contains('.') ? source.IndexOf('.') : source.Length)]);
            change[layer] += b.TryGetValue(name, out var x) && a.TryGetValue(name, out var y) ? Math.Abs(y - x) : Math.Abs(b.GetValueOrDefault(name) + a.GetValueOrDefault(name));
        }
        return change;
    }

    /// <summary>The <paramref name="k"/> layers with the largest change, lower layer first on ties, as printed ("2 0").</summary>
    private static string CriticalLayers(CircuitNotebooks.Circuits.Circuit before, CircuitNotebooks.Circuits.Circuit after, int layers, int k)
    {
        var change = LayerEdgeChange(before, after, layers);
        return string.Join(" ", Enumerable.Range(0, layers).OrderByDescending(l => change[l]).ThenBy(l => l).Take(k));
    }

    /// <summary>A score cell; NaN marks heads a step cannot reach.</summary>
    private static double Score(Dictionary<string, string> cell) => cell["score"] is "" or "NaN" ? double.NaN : Csv.Number(cell["score"]);

    /// <summary>Node of a destination name: "a2.h3&lt;q&gt;" → "a2.h3".</summary>
    private static string Node(string destination) => destination.Contains('<') ? destination[..destination.IndexOf('<')] : destination;

    private static double Jaccard(IEnumerable<string> a, IEnumerable<string> b)
    {
        var x = a.ToHashSet();
        var y = b.ToHashSet();
        int union = x.Union(y).Count();
        return union == 0 ? 1 : (double)x.Intersect(y).Count() / union;
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
