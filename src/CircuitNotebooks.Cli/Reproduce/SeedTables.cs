using CircuitNotebooks.Circuits;
using CircuitNotebooks.Cli.Infrastructure;

namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>Per-method tables over seeds: mean and 95 % t-interval (<see cref="SeedInterval"/>) of each quantity.</summary>
public static class SeedTables
{
    public static CsvTable Findings(ReproduceResult r)
    {
        var t = new CsvTable("findings.csv", ["finding", "ours", "ci95_low", "ci95_high", "paper", "holds"]);
        foreach (var (key, f) in ReproduceFindings.Compute(r))
            t.Add(key, f.Ours, f.Ci95?[0], f.Ci95?[1], f.Paper, f.Holds);
        return t;
    }

    public static CsvTable Accuracy(ReproduceResult r)
    {
        var t = new CsvTable("accuracy_by_method.csv", ["method", "seeds", "before", "after", "after_low", "after_high",
            "gain_pp", "gain_pp_low", "gain_pp_high", "trainable"]);
        foreach (var method in r.Runs.Select(x => x.Method).Distinct())
        {
            var runs = ReproduceFindings.RunsOf(r, method);
            var after = SeedInterval.Of(runs.Select(x => x.Result.AccuracyAfter).ToList());
            var gain = SeedInterval.Of(runs.Select(ReproduceFindings.GainPp).ToList());
            t.Add(method, runs.Count, runs[0].Result.AccuracyBefore, after.Mean, after.Low, after.High, gain.Mean, gain.Low, gain.High,
                runs[0].Result.TrainableParameters);
        }
        return t;
    }

    /// <summary>Node and edge Jaccard to the base circuit at every checkpoint, over seeds.</summary>
    public static CsvTable SimilarityBands(ReproduceResult r, string method)
    {
        var t = new CsvTable($"similarity_bands_{method}.csv", ["step", "node_jaccard", "node_low", "node_high", "edge_jaccard", "edge_low", "edge_high"]);
        var runs = ReproduceFindings.RunsOf(r, method);
        for (int i = 0; i < runs[0].Steps.Count; i++)
        {
            var diffs = runs.Select(x => CircuitComparison.Compare(x.Circuits[0].Circuit, x.Circuits[i].Circuit)).ToList();
            var node = SeedInterval.Of(diffs.Select(d => d.NodeJaccard).ToList());
            var edge = SeedInterval.Of(diffs.Select(d => d.EdgeJaccard).ToList());
            t.Add(runs[0].Steps[i], node.Mean, node.Low, node.High, edge.Mean, edge.Low, edge.High);
        }
        return t;
    }

    /// <summary>Nodes and edges added + removed per transition (checkpoint i−1 → i), over seeds.</summary>
    public static CsvTable ChangeBands(ReproduceResult r, string method)
    {
        var t = new CsvTable($"changes_bands_{method}.csv", ["to_step", "node_changes", "node_low", "node_high", "edge_changes", "edge_low", "edge_high"]);
        var runs = ReproduceFindings.RunsOf(r, method);
        var series = runs.Select(x => CircuitComparison.CompareSeries(x.Circuits.Select(c => c.Circuit).ToList()).VsPrevious).ToList();
        for (int i = 0; i < series[0].Count; i++)
        {
            var node = SeedInterval.Of(series.Select(s => (double)s[i].NodeChanges).ToList());
            var edge = SeedInterval.Of(series.Select(s => (double)s[i].EdgeChanges).ToList());
            t.Add(runs[0].Steps[i + 1], node.Mean, node.Low, node.High, edge.Mean, edge.Low, edge.High);
        }
        return t;
    }
}
