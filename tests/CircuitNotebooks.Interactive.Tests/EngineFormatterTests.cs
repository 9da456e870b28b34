using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CircuitNotebooks.Circuits;
using CircuitNotebooks.FineTuning;
using CircuitNotebooks.Hooks;
using CircuitNotebooks.Interactive.Charts;
using CircuitNotebooks.Interactive.Html;
using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;
using Microsoft.DotNet.Interactive.Formatting;
using Xunit;

namespace CircuitNotebooks.Interactive.Tests;

/// <summary>Formatters, charts and frames of the engine's own types, checked against values worked out by hand.</summary>
public class EngineFormatterTests
{
    public EngineFormatterTests() => NotebookKit.Register();

    private static ModelConfig Gpt2 => new()
    {
        Architecture = Architecture.Gpt2, NLayers = 2, DModel = 16, NHeads = 4, DMlp = 32, DVocab = 40, NCtx = 32,
    };

    [Fact]
    public void ModelSummaryShowsArchitectureClosedFormParameterCountDeviceDtypeAndHooks()
    {
        using var model = HookedTransformer.Create(Gpt2, seed: 1);
        int d = 16, m = 32, v = 40, ctx = 32, L = 2;
        // embed + pos + per layer (2 norms, Q/K/V/O with biases, MLP in/out with biases) + final norm + unembed with bias
        long expected = v * d + ctx * d + L * (2 * 2 * d + 4 * (d * d + d) + (d * m + m) + (m * d + d)) + 2 * d + d * v + v;
        var text = Formatter.ToDisplayString(model, "text/plain");
        Assert.Contains("architecture: Gpt2", text);
        Assert.Contains("layers: 2", text);
        Assert.Contains($"parameters: {expected.ToString("N0", CultureInfo.InvariantCulture)}", text);
        Assert.Contains("device: cpu", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("dtype: Float32", text);
        Assert.Contains("positions: learned, n_ctx 32", text);

        var html = Formatter.ToDisplayString(model, "text/html");
        Assert.Contains("<caption>HookedTransformer</caption>", html);
        foreach (var hook in new[] { "hook_embed", "hook_pos_embed", "blocks.0.attn.hook_pattern", "blocks.1.hook_resid_post", "ln_final.hook_normalized" })
            Assert.Contains(hook + "\n", html);
    }

    [Fact]
    public void ActivationCacheListsEveryEntryWithItsShape()
    {
        using var model = HookedTransformer.Create(Gpt2, seed: 2);
        using var tokens = TorchSharp.torch.tensor(new long[] { 1, 5, 7 }, [1, 3]);
        var (logits, cache) = model.RunWithCache(tokens);
        using (cache)
        {
            logits.Dispose();
            var html = Formatter.ToDisplayString(cache, "text/html");
            Assert.Equal(cache.Count, Regex.Matches(html, "<tr><td>").Count);
            Assert.Contains("<td>blocks.1.attn.hook_pattern</td><td>[1, 4, 3, 3]</td>", html);
            Assert.Contains("<td>hook_embed</td><td>[1, 3, 16]</td>", html);
            var frame = cache.ToTable();
            Assert.Equal(cache.Count, frame.RowCount);
            var row = Enumerable.Range(0, frame.RowCount).Select(frame.Row).Single(r => (string)r["name"]! == "blocks.0.mlp.hook_post");
            Assert.Equal(1 * 3 * 32, (long)row["elements"]!);
            Assert.Equal(3, (int)row["rank"]!);
        }
    }

    [Fact]
    public void PatchingResultIsAHeatmapWithItsStrongestCellAndALongFrame()
    {
        var values = new double[,] { { 0.1, -0.9, 0.3 }, { 0.85, double.NaN, -0.2 } };
        var result = PatchingResult.LayerByPosition(values, ["<bos>", "7", "="], "resid", "logit_diff");
        Assert.Equal((0, 1, -0.9), result.Strongest());
        Assert.Contains("strongest: layer L0, position 1 '7' → -0.9", Formatter.ToDisplayString(result, "text/plain"));
        var html = Formatter.ToDisplayString(result, "text/html");
        var figure = FigureOf(html);
        Assert.Equal("heatmap", figure["data"]![0]!["type"]!.GetValue<string>());
        Assert.Equal(0.9, figure["data"]![0]!["zmax"]!.GetValue<double>(), 12);
        Assert.Equal(["0:<bos>", "1:7", "2:="], figure["data"]![0]!["x"]!.AsArray().Select(x => x!.GetValue<string>()));

        var frame = result.ToTable();
        Assert.Equal(6, frame.RowCount);
        var cell = Enumerable.Range(0, frame.RowCount).Select(frame.Row).Single(r => (int)r["row_index"]! == 1 && (int)r["column_index"]! == 0);
        Assert.Equal(0.85, (double)cell["value"]!);
        Assert.Equal("L1", (string)cell["row"]!);
        Assert.Throws<ArgumentException>(() => new PatchingResult("t", values, ["a"], ["x", "y", "z"], "r", "c", "m")); // 2 rows, 1 label
    }

    /// <summary>2 layers × 2 heads, sequential blocks; edges chosen by hand.</summary>
    private static Circuit SmallCircuit()
    {
        var graph = new CircuitGraph(2, 2, parallelAttnMlp: false);
        var scores = new float[graph.ForwardCount * graph.BackwardCount];
        var chosen = new (int F, int B, float S)[]
        {
            (graph.InputNode, graph.HeadInputIndex(0, 1, QkvInput.V), 2f),
            (graph.HeadIndex(0, 1), graph.HeadInputIndex(1, 0, QkvInput.Q), -1f),
            (graph.HeadIndex(1, 0), graph.LogitsInput, 0.5f),
            (graph.InputNode, graph.MlpInputIndex(0), 0.25f),
        };
        var mask = new bool[scores.Length];
        foreach (var (f, b, s) in chosen)
        {
            scores[f * graph.BackwardCount + b] = s;
            mask[f * graph.BackwardCount + b] = true;
        }
        scores[graph.InputNode * graph.BackwardCount + graph.LogitsInput] = 9f; // scored but not in the circuit
        return Circuit.FromScores(graph, scores, new CircuitMetadata { Task = "toy", Faithfulness = 0.75, Label = "hand" }).WithEdges(mask);
    }

    [Fact]
    public void CircuitShowsCountsFaithfulnessAndADrawingOfItsEdges()
    {
        var circuit = SmallCircuit();
        var text = Formatter.ToDisplayString(circuit, "text/plain");
        // nodes: input, a0.h1, a1.h0, m0, logits of 1 + 2·3 + 1 = 8
        Assert.Contains("nodes: 5 of 8", text);
        Assert.Contains("faithfulness: 0.75", text);
        var figure = FigureOf(Formatter.ToDisplayString(circuit, "text/html"));
        var shapes = figure["layout"]!["shapes"]!.AsArray();
        Assert.Equal(4, shapes.Count);
        // drawn weakest first: input→m0 (0.25) … input→a0.h1<v> (2, blue, dash-dot for a value input)
        Assert.Equal(ChartColors.Positive, shapes[^1]!["line"]!["color"]!.GetValue<string>());
        Assert.Equal("dashdot", shapes[^1]!["line"]!["dash"]!.GetValue<string>());
        Assert.Contains(shapes, s => s!["line"]!["color"]!.GetValue<string>() == ChartColors.Negative && s["line"]!["dash"]!.GetValue<string>() == "dash");
        var nodes = figure["data"]![0]!["text"]!.AsArray().Select(t => t!.GetValue<string>()).Order();
        Assert.Equal(["a0.h1", "a1.h0", "input", "logits", "m0"], nodes);
        // the sequential MLP sits half a layer above its heads
        var placement = CircuitCharts.NodePlacement(circuit.Graph, circuit.Graph.MlpIndex(0));
        Assert.Equal(0.5, placement.Layer);

        var limited = FigureOf(CircuitCharts.Graph(circuit, maxEdges: 2).ToHtml());
        Assert.Equal(2, limited["layout"]!["shapes"]!.AsArray().Count);
        Assert.Contains("strongest 2 drawn", limited["layout"]!["title"]!["text"]!.GetValue<string>());
    }

    [Fact]
    public void CircuitFramesListEdgesWithEndpointsInputsAndLayers()
    {
        var circuit = SmallCircuit();
        var frame = circuit.ToTable();
        Assert.Equal(4, frame.RowCount);
        var q = Enumerable.Range(0, frame.RowCount).Select(frame.Row).Single(r => (string)r["edge"]! == "a0.h1->a1.h0<q>");
        Assert.Equal("a0.h1", (string)q["source"]!);
        Assert.Equal("a1.h0", (string)q["destination"]!);
        Assert.Equal("q", (string)q["input"]!);
        Assert.Equal(0, (int)q["source_layer"]!);
        Assert.Equal(-1.0, (double)q["score"]!);
        Assert.Equal(circuit.Graph.EdgeCount, circuit.ToTable(allEdges: true).RowCount);
        var nodes = circuit.NodeTable();
        Assert.Equal(8, nodes.RowCount);
        Assert.Equal(5, nodes.Column<bool>("in_circuit").Count(x => x));
    }

    [Fact]
    public void SeriesFrameMatchesJaccardComputedFromTheSets()
    {
        var a = SmallCircuit();
        var mask = a.CopyEdgeMask();
        var g = a.Graph;
        mask[g.HeadIndex(1, 0) * g.BackwardCount + g.LogitsInput] = false;                 // drop a1.h0→logits
        mask[g.MlpIndex(0) * g.BackwardCount + g.LogitsInput] = true;                       // add m0→logits
        var b = a.WithEdges(mask, a.Metadata with { Label = "b" });
        var series = CircuitComparison.CompareSeries([a, b]);
        var frame = series.ToTable();
        Assert.Equal(2, frame.RowCount);
        // edges: {v, q, a1h0→logits, in→m0} vs {v, q, in→m0, m0→logits}: 3 shared of 5
        Assert.Equal(3.0 / 5, frame.Column<double>("edge_jaccard_vs_first")[1], 12);
        // nodes: {input, a0.h1, a1.h0, m0, logits} vs the same set (a1.h0 still feeds nothing… but keeps its q edge)
        Assert.Equal(1.0, frame.Column<double>("node_jaccard_vs_first")[1], 12);
        Assert.Equal(2, frame.Column<int>("edge_changes")[1]);
        var html = Formatter.ToDisplayString(series, "text/html");
        Assert.Contains("node similarity", html);
    }

    [Fact]
    public void TrainingRunFrameHasOneRowPerStepAndEvaluationsWhereTaken()
    {
        var run = new TrainingResult(3, 3, [2.0, 1.5, 1.25], [new EvalPoint(0, 0.1), new EvalPoint(3, 0.4)], null, false, 0, [0.5, 0.5, 0.5], 30);
        var frame = run.ToTable();
        Assert.Equal([0, 1, 2, 3], frame.Column<int>("step"));
        Assert.Equal(0.1, frame.Column<double>("eval_accuracy")[0]);
        Assert.Equal(1.5, frame.Column<double>("loss")[2]);
        Assert.True(double.IsNaN(frame.Column<double>("eval_accuracy")[2])); // not evaluated at step 2
        var html = Formatter.ToDisplayString(run, "text/html");
        Assert.Equal(2, Regex.Matches(html, "class=\"cn-chart\"").Count); // loss and accuracy
        Assert.Contains("10.0 % @ 0 → 40.0 % @ 3", Formatter.ToDisplayString(run, "text/plain").Replace("10 %", "10.0 %"));
    }

    [Fact]
    public void WriteCsvIsInvariantCultureAndAtomic()
    {
        var dir = TestPaths.NewDirectory("csv");
        var path = Path.Combine(dir, "sub", "values.csv");
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo("de-DE");
        try
        {
            Table.FromRecords(new[] { new { name = "a,b", value = 0.5 }, new { name = "c", value = 1.25 } }).WriteCsv(path);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
        Assert.Equal(["name,value", "\"a,b\",0.5", "c,1.25"], File.ReadAllLines(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!)); // no temp file left behind
    }

    [Fact]
    public void EngineTypesFormatByConventionWithoutTheNotebookLayer()
    {
        var result = PatchingResult.LayerByHead(new double[,] { { 1, -3 } }, "heads", "m");
        Formatter.ResetToDefault();
        try
        {
            // The engine's own TypeFormatterSource: a summary table, no chart.
            var html = Formatter.ToDisplayString(result, "text/html");
            Assert.StartsWith("<table class=\"cn-table cn-summary\"><caption>heads</caption>", html);
            Assert.DoesNotContain("cn-chart", html);
            Assert.Contains("strongest: layer L0, head H1 → -3", Formatter.ToDisplayString(result, "text/plain"));
            Assert.Contains("<caption>Circuit (hand)</caption>", Formatter.ToDisplayString(SmallCircuit(), "text/html"));
        }
        finally
        {
            Formatter.ResetToDefault();
            NotebookKit.Register();
        }
    }

    private static JsonObject FigureOf(string html)
    {
        var m = Regex.Match(html, @"var fig = (\{.*\});\n", RegexOptions.Singleline);
        Assert.True(m.Success, "no figure in " + html[..Math.Min(300, html.Length)]);
        return JsonNode.Parse(m.Groups[1].Value.Replace("<\\/", "</"))!.AsObject();
    }
}
