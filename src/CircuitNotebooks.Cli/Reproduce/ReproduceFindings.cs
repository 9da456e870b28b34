using System.Text.Json;
using System.Text.Json.Nodes;
using CircuitNotebooks.Circuits;
using CircuitNotebooks.Cli.Infrastructure;

namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>One finding: our value, its 95 % interval over seeds (null when not a per-seed quantity or one seed), the paper's value, and whether it holds.</summary>
public sealed record Finding(double? Ours, double[]? Ci95, double? Paper, bool Holds);

/// <summary>
/// The paper's findings measured on a reproduce run, over seeds. Circuit-change findings use the primary method
/// (full fine-tuning when it ran, else the first method); each seed's value is computed on its own run, then the
/// seeds are summarised by <see cref="SeedInterval"/>.
/// </summary>
public static class ReproduceFindings
{
    public const string FileName = "findings.json";

    /// <summary>Paper anchors (docs/science.md): node J 0.80–0.85 and edge J 0.40–0.50 (midpoints), CircuitLoRA +2.46 pp,
    /// faithfulness 89.2 % at 5 % of edges, 5 % of Pythia-1.4B's 231,493 edges.</summary>
    public const double PaperNodeJaccard = 0.825, PaperEdgeJaccard = 0.45, PaperCircuitLoraGainPp = 2.46,
        PaperFaithfulness = 0.892, PaperCircuitEdges = 11_575;

    /// <summary>Union-circuit faithfulness (%) vs edge budget (%) in the paper.</summary>
    public static readonly (double Percent, double Faithfulness)[] PaperUnionFaithfulness =
        [(1, 67.4), (2, 79.4), (3, 83.7), (4, 87.2), (5, 89.2), (6, 89.4), (8, 89.6), (10, 89.7)];

    public static string PrimaryMethod(ReproduceResult r) =>
        r.Runs.Any(x => x.Method == "full") ? "full" : r.Runs.Select(x => x.Method).FirstOrDefault() ?? "none";

    public static IReadOnlyList<MethodRun> RunsOf(ReproduceResult r, string method) => r.Runs.Where(x => x.Method == method).ToList();

    public static double GainPp(MethodRun run) => 100 * (run.Result.AccuracyAfter - run.Result.AccuracyBefore);

    public static CircuitDiff FinalVsBase(MethodRun run) => CircuitComparison.Compare(run.Circuits[0].Circuit, run.Circuits[^1].Circuit);

    /// <summary>Per-seed differences a − b in accuracy after fine-tuning (pp), paired by seed.</summary>
    public static List<double> PairedDifferencePp(ReproduceResult r, string a, string b) =>
        RunsOf(r, a).Join(RunsOf(r, b), x => x.Result.Seed, y => y.Result.Seed,
            (x, y) => 100 * (x.Result.AccuracyAfter - y.Result.AccuracyAfter)).ToList();

    public static IReadOnlyDictionary<string, Finding> Compute(ReproduceResult r)
    {
        var primary = RunsOf(r, PrimaryMethod(r));
        var f = new Dictionary<string, Finding>();
        Finding FromSeeds(List<double> values, double? paper, Func<SeedInterval, bool> holds)
        {
            if (values.Count == 0) return new Finding(null, null, paper, false);
            var i = SeedInterval.Of(values);
            return new Finding(i.Mean, i.Ci95, paper, holds(i));
        }
        // "Large gains on a task the base model is weak at": at least 20 points, and the interval above zero.
        f["accuracy_gain_pp"] = FromSeeds(primary.Select(GainPp).ToList(), null, i => i.Mean >= 20 && i.Low > 0);
        int edges = r.BaseCircuit.Circuit.EdgeCountInCircuit;
        f["circuit_edges"] = new Finding(edges, null, PaperCircuitEdges, edges >= 150);
        f["faithfulness"] = new Finding(r.BaseCircuit.Faithfulness, null, PaperFaithfulness, r.BaseCircuit.Faithfulness >= 0.8);
        var finals = primary.Select(FinalVsBase).ToList();
        // Nodes mostly stay (paper 0.80–0.85), edges change a lot (0.40–0.50): thresholds halfway to "no change".
        f["node_jaccard_final"] = FromSeeds(finals.Select(d => d.NodeJaccard).ToList(), PaperNodeJaccard, i => i.Mean >= 0.7);
        f["edge_jaccard_final"] = FromSeeds(finals.Select(d => d.EdgeJaccard).ToList(), PaperEdgeJaccard, i => i.Mean <= 0.7);
        f["node_minus_edge_jaccard"] = FromSeeds(finals.Select(d => d.NodeJaccard - d.EdgeJaccard).ToList(),
            PaperNodeJaccard - PaperEdgeJaccard, i => i.N > 1 ? i.Low > 0 : i.Mean > 0);
        f["circuitlora_minus_lora_pp"] = FromSeeds(PairedDifferencePp(r, "circuitlora", "lora"), PaperCircuitLoraGainPp,
            i => i.N > 1 && i.Low > 0);
        f["circuitlora_minus_random_pp"] = FromSeeds(PairedDifferencePp(r, "circuitlora", "randomlayers"), null, i => i.N > 1 && i.Low > 0);
        return f;
    }

    public static string ToJson(ReproduceResult r, IReadOnlyDictionary<string, Finding> findings, double seconds)
    {
        var o = new JsonObject
        {
            ["task"] = r.Settings.Task,
            ["metric"] = r.Settings.Metric,
            ["method"] = PrimaryMethod(r),
            ["seeds"] = r.Settings.Seeds,
            ["seconds"] = Math.Round(seconds, 1),
        };
        foreach (var (key, v) in findings)
            o[key] = new JsonObject
            {
                ["ours"] = Finite(v.Ours),
                ["ci95"] = v.Ci95 is { } ci && Finite(ci[0]) is { } lo && Finite(ci[1]) is { } hi ? new JsonArray(lo, hi) : null,
                ["paper"] = Finite(v.Paper),
                ["holds"] = v.Holds,
            };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    // JSON has no NaN: a value that could not be measured is null.
    private static double? Finite(double? v) => v is { } x && double.IsFinite(x) ? Math.Round(x, 6) : null;

    /// <summary>Writes findings.json atomically (temporary file, then rename).</summary>
    public static IReadOnlyDictionary<string, Finding> Write(ReproduceResult r, OutputDirectory dir, double seconds)
    {
        var findings = Compute(r);
        dir.WriteText(FileName, ToJson(r, findings, seconds));
        return findings;
    }
}
