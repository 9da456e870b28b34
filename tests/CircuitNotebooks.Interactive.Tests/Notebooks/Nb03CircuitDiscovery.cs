
namespace CircuitNotebooks.Interactive.Tests.Notebooks;

internal static class Nb03CircuitDiscovery
{
    public static NotebookBuilder Build() => new NotebookBuilder()
        .Markdown("""
            # 03 · Circuit discovery with EAP-IG

            A **circuit** is the subgraph of the model's computation that carries out a task. The graph (as in the EAP-IG
            library of Hanna et al. 2024) has one node per attention head (`a{l}.h{h}`), per MLP (`m{l}`), plus `input`
            and `logits`. Because every component reads the residual stream — the sum of all earlier outputs — there is an
            **edge** from every earlier node to every later node's inputs, and separately into each head's query, key and
            value input.

            Patching every edge one by one would take one forward pass per edge. **Edge attribution patching** (EAP)
            approximates all of them at once from gradients: the score of edge u → v is
            `Σ_pos (a_u(corrupted) − a_u(clean)) · ∂M/∂input_v`, the first-order change in the metric if that edge carried
            the corrupted value. **EAP-IG** averages the gradient along a straight path from the corrupted to the clean input
            embeddings (integrated gradients, m steps; m = 5 in the papers), which is much more faithful where the metric
            is not linear.

            Wang et al. 2025 keep the top 5 % of edges by |score|, prune nodes left without a path from `input` to `logits`,
            and check **faithfulness**: run the model with every edge outside the circuit carrying its corrupted value. The
            normalised score `(m(circuit) − m(corrupted)) / (m(clean) − m(corrupted))` is 1 when the circuit alone
            reproduces the model's behaviour.
            """)
        .Code(NotebookSources.Setup + """

            using CircuitNotebooks.Models;
            using CircuitNotebooks.Circuits;
            using CircuitNotebooks.Circuits.Attribution;
            using CircuitNotebooks.Tasks;
            using CircuitNotebooks.Interactive;
            using CircuitNotebooks.Interactive.Charts;
            using TorchSharp;
            using static TorchSharp.torch;
            """)
        .Markdown(NotebookSources.ParametersNote)
        .Parameters("""
            string modelDir = "../data/models/tiny-neox";
            string device = "cpu";
            string task = "addsub";
            int examples = 32;          // prompt pairs the scores are averaged over
            int igSteps = 5;            // EAP-IG interpolation steps m (paper: 5)
            double edgeFraction = 0.05; // circuit size: top 5 % of edges by |score| (paper)
            int seed = 42;
            string outDir = "out/03-circuit-discovery";
            """)
        .Code(NotebookSources.LoadModel)
        .Code("""
            // Examples the tokenizer can score (one-token labels, equal-length prompt pairs); the paper's template for real models.
            var data = TaskCatalog.Examples(model, task, examples, seed);
            var batch = TaskBatches.ForAttribution(model, data, TaskMetric.LogitDiff);
            """)
        .Markdown("""
            ## The graph

            Its size follows from the shapes alone. With parallel attention and MLP (GPT-NeoX, Pythia) a layer's MLP reads
            the same residual stream as its heads, so it has no edges from them.
            """)
        .Code("""
            var graph = CircuitGraph.FromConfig(model.Config);
            Console.WriteLine($"nodes: {graph.NodeCount}");
            Console.WriteLine($"edges: {graph.EdgeCount}");
            Console.WriteLine($"example edges: {graph.EdgeName(graph.InputNode, graph.HeadInputIndex(0, 0, QkvInput.Q))}, " +
                              $"{graph.EdgeName(graph.MlpIndex(0), graph.LogitsInput)}");
            """)
        .Markdown("""
            ## Scoring every edge: EAP and EAP-IG

            One call computes all scores: m + 1 forward and m backward passes per batch for EAP-IG, two forwards and one
            backward for EAP. Negative scores mark edges whose corruption would lower the logit difference — the ones that
            support the right answer.
            """)
        .Code("""
            var eap = EdgeAttribution.Compute(model, batch, new AttributionOptions { Method = AttributionMethod.Eap });
            var eapIg = EdgeAttribution.Compute(model, batch, new AttributionOptions { Method = AttributionMethod.EapIgInputs, Steps = igSteps });
            var scoreTable = eapIg.ToTable();
            scoreTable.WriteCsv(Path.Combine(outDir, "edge_scores.csv"));
            display(eapIg);
            Table.FromRecords(eapIg.TopEdges(10).Select(i => new { edge = eapIg.Graph.EdgeName(i), eap_ig = eapIg.Scores[i], eap = eap.Scores[i] }))
            """)
        .Markdown("""
            ## From scores to a circuit

            Keep the top `edgeFraction` of edges by |score|, prune, and measure faithfulness with one patched forward pass in
            which every edge outside the circuit carries its corrupted value — `CircuitDiscovery.Discover` does all of it. The drawing shows the strongest edges; colour
            is the sign of the score (blue positive, red negative), width its size, and the line style the head input the
            edge feeds (q dashed, k dotted, v dash-dot).
            """)
        .Code("""
            // Scores → top edges → pruning → faithfulness is one call (it scores again here; found.Scores equals eapIg).
            var options = new DiscoveryOptions { Steps = igSteps, EdgeFraction = edgeFraction, Task = task, Label = "EAP-IG" };
            var circuit = CircuitDiscovery.Discover(model, batch, options).Circuit;
            var eapCircuit = CircuitDiscovery.Discover(model, batch, options with { Method = AttributionMethod.Eap, Label = "EAP" }).Circuit;
            CircuitFile.Save(circuit, Path.Combine(outDir, "circuit.json"), includeAllScores: true);
            circuit.ToTable().WriteCsv(Path.Combine(outDir, "circuit_edges.csv"));
            Console.WriteLine($"circuit: {circuit.NodeCountInCircuit} nodes, {circuit.EdgeCountInCircuit} edges, faithfulness {circuit.Metadata.Faithfulness:F3}");
            circuit
            """)
        .Markdown("""
            ## Faithfulness versus edge budget

            How many edges does the task need? Sweep the budget from 1 % to 100 % of the edges. With every edge in the
            circuit nothing is patched, so faithfulness is exactly 1; the interesting part is how fast each method gets
            there. (Wang et al. report, for the union of sub-task circuits on Pythia-1.4B: 67 % at 1 % of edges, 89 % at 5 %.)
            """)
        .Code("""
            var fractions = new[] { 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0 };
            var budgets = fractions.Select(f => Math.Max(1, CircuitSelection.EdgesForFraction(graph.EdgeCount, f))).Distinct().ToArray();
            FaithfulnessResult[] igCurve, eapCurve;
            using (var evaluator = new FaithfulnessEvaluator(model, batch))
            {
                igCurve = evaluator.Curve(eapIg.ToCircuit(), budgets);
                eapCurve = evaluator.Curve(eap.ToCircuit(), budgets);
            }
            igCurve.ToTable().WriteCsv(Path.Combine(outDir, "faithfulness_vs_budget.csv"));
            Console.WriteLine($"faithfulness at 100% of edges: {igCurve[^1].Normalized:F6}");
            Console.WriteLine($"faithfulness at 5% of edges: EAP-IG {igCurve[Array.IndexOf(budgets, CircuitSelection.EdgesForFraction(graph.EdgeCount, 0.05))].Normalized:F3}, " +
                              $"EAP {eapCurve[Array.IndexOf(budgets, CircuitSelection.EdgesForFraction(graph.EdgeCount, 0.05))].Normalized:F3}");
            LineCurves.FaithfulnessVsEdgeBudget(budgets.Select(b => (double)b).ToList(),
                [new CurveSeries("EAP-IG", igCurve.Select(r => r.Normalized).ToList()), new CurveSeries("EAP", eapCurve.Select(r => r.Normalized).ToList(), Dashed: true)])
            """)
        .Markdown("""
            ## EAP versus EAP-IG circuits

            Do the two methods pick the same circuit? Node and edge overlap (Jaccard index) between them, layer by layer.
            """)
        .Code("""
            CircuitComparison.Compare(eapCircuit, circuit)
            """)
        .Markdown("""
            ## Head-level view

            Summing each head's q, k and v edges gives a coarser picture: how much each head matters to the circuit. The
            saved `circuit.json` keeps every score, so selection can be redone later (`CircuitFile.Load`).
            """)
        .Code("""
            var perHead = new double[model.Config.NLayers, model.Config.NHeads];
            var headView = HeadLevelView.Collapse(circuit);
            foreach (var e in headView.EdgesInCircuit())
            {
                int node = headView.Graph.BackwardNode(e.Destination);
                if (graph.KindOf(node) == NodeKind.Head) perHead[graph.LayerOf(node), node - graph.HeadIndex(graph.LayerOf(node), 0)] += e.Score;
            }
            CircuitNotebooks.Patching.PatchingResult.LayerByHead(perHead, "Circuit edges into each head: Σ |score|", "Σ |score|")
            """);
}
