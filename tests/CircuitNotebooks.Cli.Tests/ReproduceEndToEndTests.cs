using System.Globalization;
using System.Text.Json;
using AngleSharp.Html.Parser;
using CircuitNotebooks.Circuits;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Cli.Options;
using CircuitNotebooks.Cli.Reproduce;
using CircuitNotebooks.Models;
using CircuitNotebooks.Tasks;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Tests;

/// <summary>One uninterrupted `reproduce` on a shortened configuration, shared by the tests that inspect its output.</summary>
public sealed class ReproduceRun
{
    public const string Collection = "reproduce";

    public static readonly string[] ShortArgs = ["--steps", "4", "--checkpoint-every", "2", "--ig-steps", "2", "--examples", "60", "--seed", "5", "--seeds", "2"];
    public static readonly string[] Methods = ["full", "lora", "circuitlora", "randomlayers"];
    /// <summary>Run ids: the first seed's runs keep the method's name, the second's carry its seed.</summary>
    public static readonly string[] Runs = [.. Methods, .. Methods.Select(m => m + "-seed6")];

    public ReproduceRun()
    {
        Out = TempDirs.NewPath("reproduce");
        Result = Cli.Run([.. Args(Out)]).GetAwaiter().GetResult();
    }

    public static string[] Args(string outDir) => ["reproduce", "--model", TinyModel.Path, .. ShortArgs, "--out", outDir];

    public string Out { get; }
    public Cli.Result Result { get; }
}

[CollectionDefinition(ReproduceRun.Collection)]
public sealed class ReproduceCollection : ICollectionFixture<ReproduceRun>;

[Collection(ReproduceRun.Collection)]
public sealed class ReproduceEndToEndTests(ReproduceRun run)
{
    private string P(string rel) => Path.Combine(run.Out, rel);

    [Fact]
    public void WritesEveryArtefactAndPrintsTheSummary()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        string[] files =
        [
            "report.html", "config.json", "run.log", "summary.csv", "findings.json", "findings.csv", "accuracy_by_method.csv", "faithfulness_vs_budget.csv", "critical_layers.csv",
            "composition.csv", "composition_faithfulness_vs_budget.csv", "circuits/base/base.json", "circuits/composition/union.json",
            "circuits/composition/composite.json", "circuits/composition/composite-bracket.json", "circuits/composition/composite-outer.json",
        ];
        foreach (var m in ReproduceRun.Methods) files = [.. files, $"similarity_bands_{m}.csv", $"changes_bands_{m}.csv"];
        foreach (var m in ReproduceRun.Runs)
            files = [.. files, $"similarity_{m}.csv", $"changes_{m}.csv", $"layer_changes_{m}.csv", $"loss_{m}.csv",
                $"circuits/{m}/step-000002.json", $"circuits/{m}/step-000004.json", $"results/{m}.json", $"runs/{m}/step-000004/checkpoint.json"];
        foreach (var f in files) Assert.True(File.Exists(P(f)), $"missing {f}");
        Assert.Empty(Directory.GetFiles(run.Out, "*" + OutputDirectory.TempSuffix, SearchOption.AllDirectories));

        // config.json is the exact configuration used: reading it back gives the options given on the command line.
        var cfg = JsonSerializer.Deserialize<ReproduceSettings>(File.ReadAllText(P("config.json")), ReproduceSettings.Json)!;
        Assert.Equal((4, 2, 2, 60, 5, TinyModel.Path), (cfg.Steps, cfg.CheckpointEvery, cfg.IgSteps, cfg.Examples, cfg.Seed, cfg.Model));
        Assert.Equal(EdgeBudget.Default, cfg.Edges);

        Assert.Contains("findings over 2 seed(s)", run.Result.Out);
        foreach (var m in ReproduceRun.Methods) Assert.Contains(m, run.Result.Out);
        Assert.Contains("report:", run.Result.Out);
        Assert.Contains("done in", File.ReadAllText(P("run.log")));
        // Time split by stage, every stage named.
        var stages = File.ReadAllLines(P("run.log")).Single(l => l.Contains("time by stage:"));
        foreach (var stage in new[] { "base", "full", "lora", "circuitlora", "randomlayers", "composition", "report" })
            Assert.Contains($" {stage} ", stages);
    }

    [Fact]
    public void SimilarityAndChangeCsvsMatchSetArithmeticOnTheCircuitFiles()
    {
        foreach (var m in ReproduceRun.Runs)
        {
            var sim = Csv.Read(P($"similarity_{m}.csv"));
            var changes = Csv.Read(P($"changes_{m}.csv"));
            var steps = new[] { 0, 2, 4 };
            var sets = steps.Select(s => CircuitSets(s == 0 ? P("circuits/base/base.json") : P($"circuits/{m}/step-{s:D6}.json"))).ToList();
            Assert.Equal(steps.Length, sim.Count);
            for (int i = 0; i < steps.Length; i++)
            {
                var row = sim[i];
                Assert.Equal(steps[i], (int)row["step"]);
                Assert.Equal(sets[i].Nodes.Count, (int)row["nodes"]);
                Assert.Equal(sets[i].Edges.Count, (int)row["edges"]);
                Assert.Equal(Jaccard(sets[0].Nodes, sets[i].Nodes), row["node_jaccard_vs_base"], 12);
                Assert.Equal(Jaccard(sets[0].Edges, sets[i].Edges), row["edge_jaccard_vs_base"], 12);
                Assert.Equal(Jaccard(sets[Math.Max(0, i - 1)].Edges, sets[i].Edges), row["edge_jaccard_vs_prev"], 12);
            }
            for (int i = 1; i < steps.Length; i++)
            {
                var c = changes[i - 1];
                Assert.Equal(sets[i].Nodes.Except(sets[i - 1].Nodes).Count() + sets[i - 1].Nodes.Except(sets[i].Nodes).Count(), (int)c["node_changes"]);
                Assert.Equal(sets[i].Edges.Except(sets[i - 1].Edges).Count() + sets[i - 1].Edges.Except(sets[i].Edges).Count(), (int)c["edge_changes"]);
            }
            // Loss curve: the trainer's own record in the final checkpoint.
            using var ck = JsonDocument.Parse(File.ReadAllText(P($"runs/{m}/step-000004/checkpoint.json")));
            var losses = ck.RootElement.GetProperty("Losses").EnumerateArray().Select(x => x.GetDouble()).ToList();
            Assert.Equal(losses, Csv.Read(P($"loss_{m}.csv")).Select(r => r["loss"]).ToList());
        }
    }

    [Fact]
    public void AccuracyAndFaithfulnessInTheCsvsMatchTheEngineOnTheSavedCircuits()
    {
        using var model = HookedTransformer.FromPretrained(TinyModel.Path);
        var data = TaskCatalog.Load(model, "addsub", 60, 5);

        // Accuracy before fine-tuning, one prompt at a time with no padding: argmax at the last position.
        int hits = 0;
        foreach (var e in data.Test)
        {
            using var scope = NewDisposeScope();
            var logits = model.Forward(model.ToTokens(e.Clean));
            long label = model.Tokenizer!.Encode(" " + e.Label)[0];
            if (logits[0, -1].argmax().item<long>() == label) hits++;
        }
        var summary = Csv.Read(P("summary.csv"));
        foreach (var row in summary) Assert.Equal((double)hits / data.Test.Count, row["accuracy_before"], 12);

        // Faithfulness of the stored base circuit, re-evaluated on the same probe examples.
        using var probe = new CircuitProbe(model, data.Test.Take(32).ToList(), "addsub", new DiscoveryOptions { Steps = 2 });
        var circuit = CircuitFile.Load(P("circuits/base/base.json"), model.Config);
        double faith = probe.Faithfulness(model, circuit);
        Assert.Equal(faith, Csv.Read(P("similarity_full.csv"))[0]["faithfulness"], 12);
        var curve = Csv.Read(P("faithfulness_vs_budget.csv"));
        var top = CircuitSelection.TopN(circuit, (int)curve[0]["edges"]);
        Assert.Equal(probe.Faithfulness(model, top), curve[0]["base"], 9);

        // Trainable parameters: the closed form r·(d_in + d_out) per adapted matrix, and all parameters for full FT.
        var cfg = model.Config;
        long perRank = cfg.NLayers * (3L * (cfg.DModel + cfg.DModel) + (cfg.DModel + cfg.DModel) + (cfg.DModel + cfg.DMlp) + (cfg.DMlp + cfg.DModel));
        Assert.Equal(8 * perRank, (long)summary.Single(r => r.Text["method"] == "lora")["trainable_parameters"]);
        // Full FT trains everything but the zero unembedding bias (GPT-NeoX has none; it stays zero to save back in HF layout).
        Assert.Equal(model.ParameterCount - cfg.DVocab, (long)summary.Single(r => r.Text["method"] == "full")["trainable_parameters"]);
        // CircuitLoRA at a matched budget: within 2 % of LoRA's count.
        double clora = summary.Single(r => r.Text["method"] == "circuitlora")["trainable_parameters"];
        Assert.InRange(clora / (8 * perRank), 0.98, 1.02);
    }

    [Fact]
    public void ReportParsesAndReferencesNoNetworkUrl()
    {
        var html = File.ReadAllText(P("report.html"));
        var doc = new HtmlParser(new HtmlParserOptions { IsStrictMode = true }).ParseDocument(html);
        Assert.Contains("circuit dynamics", doc.Title);
        int charts = doc.QuerySelectorAll("div.cn-chart").Length;
        Assert.True(charts >= 10, $"{charts} charts");
        Assert.Equal(charts, doc.QuerySelectorAll("script").Count(s => s.TextContent.Contains("Plotly.newPlot(el")));
        Assert.Single(doc.QuerySelectorAll("script[data-circuitnotebooks-plotly]"));
        foreach (var el in doc.All)
            foreach (var attr in el.Attributes.Where(a => a.Name is "src" or "href" or "srcset" or "action" or "data" or "poster"))
                Assert.False(IsNetwork(attr.Value), $"<{el.LocalName} {attr.Name}=\"{attr.Value}\">");
        Assert.Empty(doc.QuerySelectorAll("link, iframe, img, object, embed"));
        foreach (var style in doc.QuerySelectorAll("style")) Assert.DoesNotContain("url(", style.TextContent);
        // Every table of the report is also a CSV: the summary table shows the same methods.
        Assert.True(doc.QuerySelectorAll("table.cn-table").Length >= 8);
    }

    private static bool IsNetwork(string url) =>
        url.StartsWith("http:", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https:", StringComparison.OrdinalIgnoreCase) || url.StartsWith("//");

    internal static (HashSet<string> Nodes, HashSet<string> Edges) CircuitSets(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var nodes = doc.RootElement.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()!).ToHashSet();
        var edges = doc.RootElement.GetProperty("edges").EnumerateArray().Select(e => e.GetProperty("edge").GetString()!).ToHashSet();
        return (nodes, edges);
    }

    private static double Jaccard(HashSet<string> a, HashSet<string> b) =>
        a.Count + b.Count == 0 ? 1 : (double)a.Intersect(b).Count() / a.Union(b).Count();
}

/// <summary>Minimal CSV reader for the files the CLI writes (no quoted commas in numeric tables).</summary>
internal static class Csv
{
    public sealed class Row(Dictionary<string, string> cells)
    {
        public IReadOnlyDictionary<string, string> Text => cells;
        public double this[string column] => double.Parse(cells[column], CultureInfo.InvariantCulture);
    }

    public static List<Row> Read(string path)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
        var header = lines[0].Split(',');
        return lines.Skip(1).Select(l =>
        {
            var cells = l.Split(',');
            Assert.Equal(header.Length, cells.Length);
            return new Row(header.Zip(cells).ToDictionary(x => x.First, x => x.Second));
        }).ToList();
    }
}

/// <summary>findings.json against the CSVs and circuit files, recomputed here with a hand-written t-interval.</summary>
[Collection(ReproduceRun.Collection)]
public sealed class FindingsTests(ReproduceRun run)
{
    private string P(string rel) => Path.Combine(run.Out, rel);

    // Two seeds: t(0.975, 1) = 12.706.
    private static (double Mean, double Lo, double Hi) Interval(double a, double b)
    {
        double mean = (a + b) / 2, sd = Math.Abs(a - b) / Math.Sqrt(2);
        double half = 12.706 * sd / Math.Sqrt(2);
        return (mean, mean - half, mean + half);
    }

    [Fact]
    public void EveryFindingIsThereWithSeedsAndTime()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        using var doc = JsonDocument.Parse(File.ReadAllText(P("findings.json")));
        var root = doc.RootElement;
        Assert.Equal(2, root.GetProperty("seeds").GetInt32());
        Assert.InRange(root.GetProperty("seconds").GetDouble(), 0.1, 3600);
        string[] keys = ["accuracy_gain_pp", "circuit_edges", "faithfulness", "node_jaccard_final", "edge_jaccard_final",
            "node_minus_edge_jaccard", "circuitlora_minus_lora_pp", "circuitlora_minus_random_pp"];
        foreach (var k in keys)
        {
            var f = root.GetProperty(k);
            Assert.Equal(["ours", "ci95", "paper", "holds"], f.EnumerateObject().Select(p => p.Name));
            Assert.True(f.GetProperty("holds").ValueKind is JsonValueKind.True or JsonValueKind.False, k);
        }
        Assert.Equal(2.46, root.GetProperty("circuitlora_minus_lora_pp").GetProperty("paper").GetDouble());
    }

    [Fact]
    public void PerSeedFindingsMatchAnIndependentComputation()
    {
        var summary = Csv.Read(P("summary.csv")).ToDictionary(r => r.Text["method"]);
        using var doc = JsonDocument.Parse(File.ReadAllText(P("findings.json")));
        var root = doc.RootElement;
        void Check(string key, double a, double b)
        {
            var (mean, lo, hi) = Interval(a, b);
            var f = root.GetProperty(key);
            Assert.Equal(mean, f.GetProperty("ours").GetDouble(), 5);
            var ci = f.GetProperty("ci95").EnumerateArray().Select(x => x.GetDouble()).ToList();
            Assert.Equal(lo, ci[0], 5);
            Assert.Equal(hi, ci[1], 5);
        }
        double Gain(string id) => 100 * (summary[id]["accuracy_after"] - summary[id]["accuracy_before"]);
        Check("accuracy_gain_pp", Gain("full"), Gain("full-seed6"));
        double After(string id) => 100 * summary[id]["accuracy_after"];
        Check("circuitlora_minus_lora_pp", After("circuitlora") - After("lora"), After("circuitlora-seed6") - After("lora-seed6"));
        Check("circuitlora_minus_random_pp", After("circuitlora") - After("randomlayers"), After("circuitlora-seed6") - After("randomlayers-seed6"));

        // Jaccard of the final circuit vs the base circuit, from the circuit files by set arithmetic.
        var baseSets = ReproduceEndToEndTests.CircuitSets(P("circuits/base/base.json"));
        var finals = new[] { "full", "full-seed6" }.Select(id => ReproduceEndToEndTests.CircuitSets(P($"circuits/{id}/step-000004.json"))).ToList();
        static double J(HashSet<string> a, HashSet<string> b) => a.Count + b.Count == 0 ? 1 : (double)a.Intersect(b).Count() / a.Union(b).Count();
        var node = finals.Select(f => J(baseSets.Nodes, f.Nodes)).ToList();
        var edge = finals.Select(f => J(baseSets.Edges, f.Edges)).ToList();
        Check("node_jaccard_final", node[0], node[1]);
        Check("edge_jaccard_final", edge[0], edge[1]);
        Check("node_minus_edge_jaccard", node[0] - edge[0], node[1] - edge[1]);

        var edges = root.GetProperty("circuit_edges");
        Assert.Equal(baseSets.Edges.Count, edges.GetProperty("ours").GetDouble());
        Assert.Equal(baseSets.Edges.Count >= 150, edges.GetProperty("holds").GetBoolean());
        Assert.Equal(JsonValueKind.Null, edges.GetProperty("ci95").ValueKind);
    }
}
