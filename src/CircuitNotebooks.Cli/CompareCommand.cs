using System.CommandLine;
using CircuitNotebooks.Circuits;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Interactive.Charts;
using CircuitNotebooks.Interactive.Html;
using Spectre.Console;

namespace CircuitNotebooks.Cli;

/// <summary>`compare`: circuit files → pairwise similarity, consecutive changes and a report.</summary>
internal static class CompareCommand
{
    public static Command Create(CliContext ctx, Option<bool> verbose)
    {
        var inputs = new Argument<string[]>("circuits") { Description = "Circuit JSON files, or folders (their *.json in name order), in sequence order.", Arity = ArgumentArity.OneOrMore };
        var outDir = CommonOptions.Out("out/compare");
        var cmd = new Command("compare", "Compare circuits: node/edge Jaccard between every pair, changes between consecutive circuits; writes CSVs and report.html.")
            { inputs, outDir };
        CommandAction.Set(cmd, ctx, verbose, (p, ct) =>
        {
            var files = Expand(p.GetValue(inputs)!);
            if (files.Count < 2) throw CliException.Usage($"compare needs at least two circuits (got {files.Count}: {string.Join(", ", files)}).");
            var circuits = files.Select(f =>
            {
                try { return CircuitFile.Load(f); }
                catch (Exception e) when (e is IOException or InvalidDataException) { throw CliException.BadInput(e.Message, e); }
            }).ToList();
            for (int i = 1; i < circuits.Count; i++)
                if (!circuits[i].Graph.SameAs(circuits[0].Graph))
                    throw CliException.BadInput($"{files[i]} is over graph {circuits[i].Graph.ShapeKey} ({circuits[i].Granularity}), {files[0]} over {circuits[0].Graph.ShapeKey} ({circuits[0].Granularity}); only circuits of the same model compare.");
            var names = files.Select((f, i) => circuits[i].Metadata.Label ?? Path.GetFileNameWithoutExtension(f)).ToList();

            var pairs = new CsvTable("pairwise.csv", ["a", "b", "node_jaccard", "edge_jaccard", "weighted_edge_jaccard", "node_changes", "edge_changes"]);
            int n = circuits.Count;
            var nodeJ = new double[n, n];
            var edgeJ = new double[n, n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    var d = CircuitComparison.Compare(circuits[i], circuits[j], i, j);
                    (nodeJ[i, j], edgeJ[i, j]) = (d.NodeJaccard, d.EdgeJaccard);
                    if (i < j) pairs.Add(names[i], names[j], d.NodeJaccard, d.EdgeJaccard, d.WeightedEdgeJaccard, d.NodeChanges, d.EdgeChanges);
                }
            var series = CircuitComparison.CompareSeries(circuits);
            var seq = new CsvTable("sequence.csv", ["from", "to", "node_jaccard_vs_first", "edge_jaccard_vs_first", "node_changes", "edge_changes",
                "share_edge_changes_touching_changed_nodes"]);
            for (int i = 0; i < series.VsPrevious.Count; i++)
            {
                var d = series.VsPrevious[i];
                seq.Add(names[d.FromIndex], names[d.ToIndex], series.VsBase[i].NodeJaccard, series.VsBase[i].EdgeJaccard, d.NodeChanges, d.EdgeChanges,
                    d.ShareEdgeChangesTouchingChangedNodes);
            }
            var dir = new OutputDirectory(p.GetValue(outDir) ?? "out/compare");
            dir.WriteText(pairs.FileName, pairs.ToCsv());
            dir.WriteText(seq.FileName, seq.ToCsv());
            var x = Enumerable.Range(1, n - 1).Select(i => (double)i).ToList();
            var report = new HtmlReport("CircuitNotebooks — circuit comparison")
                .Paragraph("Circuits: " + string.Join(", ", names.Select((s, i) => $"{i}: {s} ({circuits[i].NodeCountInCircuit} nodes, {circuits[i].EdgeCountInCircuit} edges)")))
                .Section("Node Jaccard").Chart(Heatmaps.Diverging(nodeJ, names, names, "Node Jaccard", "circuit", "circuit", "J"))
                .Section("Edge Jaccard").Chart(Heatmaps.Diverging(edgeJ, names, names, "Edge Jaccard", "circuit", "circuit", "J"))
                .Section("In sequence").Chart(LineCurves.SimilarityOverCheckpoints(x, series.VsBase.Select(d => d.NodeJaccard).ToList(),
                    series.VsBase.Select(d => d.EdgeJaccard).ToList(), "Similarity to the first circuit", "circuit index"))
                .Html(seq.ToHtml())
                .Section("Pairs").Html(pairs.ToHtml());
            dir.Write("report.html", tmp => File.WriteAllText(tmp, report.ToHtml()));
            var t = new Table().AddColumns("from", "to", "node J vs first", "edge J vs first", "node Δ", "edge Δ");
            foreach (var row in seq.Rows)
                t.AddRow(Markup.Escape((string)row[0]!), Markup.Escape((string)row[1]!), $"{(double)row[2]!:F2}", $"{(double)row[3]!:F2}", $"{row[4]}", $"{row[5]}");
            ctx.Out.Write(t);
            ctx.Out.MarkupLineInterpolated($"written to {dir.Root}");
            return 0;
        });
        return cmd;
    }

    private static List<string> Expand(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        foreach (var i in inputs)
        {
            if (Directory.Exists(i))
                files.AddRange(Directory.GetFiles(i, "*.json").Where(f => !f.EndsWith(".eval.json", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
            else if (File.Exists(i)) files.Add(i);
            else throw CliException.BadInput($"circuit file or folder not found: {i}");
        }
        return files;
    }
}
