using System.Text.Json;
using CircuitNotebooks.Circuits;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Models;
using Xunit;

namespace CircuitNotebooks.Cli.Tests;

/// <summary>discover, compare, finetune and notebook run on the tiny model.</summary>
public sealed class CommandTests
{
    [Fact]
    public async Task DiscoverWritesACircuitWithinTheEdgeBudget()
    {
        var outDir = TempDirs.NewPath("discover");
        var r = await Cli.Run("discover", "--model", TinyModel.Path, "--edges", "20", "--ig-steps", "2", "--examples", "4", "--out", outDir);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var model = HookedTransformer.FromPretrained(TinyModel.Path);
        var circuit = CircuitFile.Load(Path.Combine(outDir, "circuit.json"), model.Config);
        // Top 20 edges, then pruning can only remove some.
        Assert.InRange(circuit.EdgeCountInCircuit, 1, 20);
        var ranked = circuit.Graph.RealEdges().Select(i => Math.Abs(circuit.Scores[i])).OrderDescending().ToList();
        foreach (var e in circuit.EdgesInCircuit()) Assert.True(Math.Abs(e.Score) >= ranked[19], $"{e.Name} is not among the top 20");
        var edgesCsv = Csv.Read(Path.Combine(outDir, "edges.csv"));
        Assert.Equal(circuit.EdgeCountInCircuit, edgesCsv.Count);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        Assert.Equal(circuit.EdgeCountInCircuit, summary.RootElement.GetProperty("edges").GetInt32());
        Assert.Contains("faithfulness", r.Out);
    }

    [Fact]
    public async Task CompareMatchesSetArithmetic()
    {
        var a = TempDirs.NewPath("cmp-a");
        var b = TempDirs.NewPath("cmp-b");
        Assert.Equal(0, (await Cli.Run("discover", "--model", TinyModel.Path, "--edges", "5%", "--ig-steps", "1", "--examples", "4", "--out", a)).ExitCode);
        Assert.Equal(0, (await Cli.Run("discover", "--model", TinyModel.Path, "--edges", "10%", "--ig-steps", "1", "--examples", "4", "--task", "arith-seq", "--out", b)).ExitCode);
        var outDir = TempDirs.NewPath("compare");
        string fa = Path.Combine(a, "circuit.json"), fb = Path.Combine(b, "circuit.json");
        var r = await Cli.Run("compare", fa, fb, "--out", outDir);
        Assert.True(r.ExitCode == 0, r.ToString());
        var row = Assert.Single(Csv.Read(Path.Combine(outDir, "pairwise.csv")));
        var (na, ea) = ReproduceEndToEndTests.CircuitSets(fa);
        var (nb, eb) = ReproduceEndToEndTests.CircuitSets(fb);
        Assert.Equal((double)na.Intersect(nb).Count() / na.Union(nb).Count(), row["node_jaccard"], 12);
        Assert.Equal((double)ea.Intersect(eb).Count() / ea.Union(eb).Count(), row["edge_jaccard"], 12);
        Assert.Equal(ea.Except(eb).Count() + eb.Except(ea).Count(), (int)row["edge_changes"]);
        Assert.True(File.Exists(Path.Combine(outDir, "report.html")));
    }

    [Fact]
    public async Task FinetuneSavesAModelThatLoadsAndResumes()
    {
        var outDir = TempDirs.NewPath("finetune");
        string[] args = ["finetune", "--model", TinyModel.Path, "--method", "lora", "--steps", "3", "--checkpoint-every", "2", "--examples", "40", "--out", outDir];
        var r = await Cli.Run(args);
        Assert.True(r.ExitCode == 0, r.ToString());
        using (var tuned = HookedTransformer.FromPretrained(Path.Combine(outDir, "model")))
        {
            Assert.NotNull(tuned.Tokenizer);
            using var base0 = HookedTransformer.FromPretrained(TinyModel.Path);
            // The LoRA delta was merged into the weights: something moved.
            var t = tuned.StateDict();
            var b = base0.StateDict();
            Assert.Contains(t.Keys, k => !t[k].eq(b[k]).all().item<bool>());
        }
        Assert.Equal(3, Csv.Read(Path.Combine(outDir, "loss.csv")).Count);
        // Re-running with the same --out resumes from the last checkpoint: no step is trained again, same losses.
        var losses = File.ReadAllText(Path.Combine(outDir, "loss.csv"));
        var again = await Cli.Run(args);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(losses, File.ReadAllText(Path.Combine(outDir, "loss.csv")));
        var circuitlora = await Cli.Run("finetune", "--model", TinyModel.Path, "--method", "circuitlora", "--critical-layers", "0,3",
            "--steps", "2", "--examples", "40", "--out", TempDirs.NewPath("clora"));
        Assert.True(circuitlora.ExitCode == 0, circuitlora.ToString());
    }

    [Fact]
    public async Task NotebookRunWritesOutputsAndInjectsParameters()
    {
        var dir = TempDirs.NewPath("nb");
        Directory.CreateDirectory(dir);
        var nb = Path.Combine(dir, "t.ipynb");
        File.WriteAllText(nb, Notebook(["int n = 2;", "Console.WriteLine(n * 21);"], parametersCell: 0));
        var outDir = Path.Combine(dir, "out");
        var r = await Cli.Run("notebook", "run", nb, "--out", outDir, "-p", "n=3");
        Assert.True(r.ExitCode == 0, r.ToString());
        var executed = File.ReadAllText(Path.Combine(outDir, "t.ipynb"));
        Assert.Contains("63", executed);
        Assert.True(File.Exists(Path.Combine(outDir, "t.html")));

        File.WriteAllText(nb, Notebook(["throw new InvalidOperationException(\"boom\");"], parametersCell: null));
        var failed = await Cli.Run("notebook", "run", nb, "--out", outDir);
        Assert.Equal(ExitCodes.Failure, failed.ExitCode);
        Assert.Contains("cell 1 failed", failed.Err);
        Assert.Contains("boom", failed.Err);
        var bad = await Cli.Run("notebook", "run", nb, "--out", outDir, "-p", "not an assignment");
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
    }

    private static string Notebook(string[] cells, int? parametersCell)
    {
        var list = cells.Select((src, i) => new Dictionary<string, object>
        {
            ["cell_type"] = "code", ["execution_count"] = null!, ["outputs"] = Array.Empty<object>(), ["source"] = src,
            ["metadata"] = new Dictionary<string, object>
            {
                ["polyglot_notebook"] = new Dictionary<string, string> { ["kernelName"] = "csharp" },
                ["tags"] = i == parametersCell ? new[] { "parameters" } : Array.Empty<string>(),
            },
        });
        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["cells"] = list, ["nbformat"] = 4, ["nbformat_minor"] = 5,
            ["metadata"] = new Dictionary<string, object> { ["kernelspec"] = new Dictionary<string, string> { ["name"] = ".net-csharp", ["display_name"] = ".NET (C#)", ["language"] = "C#" } },
        });
    }
}
