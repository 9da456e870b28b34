
namespace CircuitNotebooks.Interactive.Tests.Notebooks;

internal static class Nb02Patching
{
    public static NotebookBuilder Build() => new NotebookBuilder()
        .Markdown("""
            # 02 · Activation patching and path patching

            Which internal activations *cause* the model's answer? Patching answers that with interventions rather than
            correlations. We run the model on a **clean** prompt and on a **corrupted** one that differs in a single
            detail and calls for a different answer — here `72 - 46 =` versus `72 + 46 =` — and move activations from one
            run into the other:

            * **Activation patching** (denoising): run the corrupted prompt, but copy one activation from the clean run.
              If the answer recovers, that activation carries the information that distinguishes the two prompts.
            * **Path patching** (Wang et al. 2023, IOI; used by Prakash et al. 2024 to trace the entity-tracking circuit
              backwards from the logits): change a *sender* head only along its direct path into chosen *receivers*,
              keeping every other path clean. It separates "this head matters" from "this head matters *because it
              talks to that one*".

            Both need clean and corrupted prompts with the same number of tokens, so positions line up one to one.
            """)
        .Code(NotebookSources.Setup + """

            using CircuitNotebooks.Models;
            using CircuitNotebooks.Patching;
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
            string task = "addsub";   // tiny-suite task, or a paper task name (addsub100, muldiv, …) for real models
            int examples = 16;        // prompt pairs averaged in every measurement
            int seed = 42;
            string outDir = "out/02-patching";
            """)
        .Code(NotebookSources.LoadModel)
        .Markdown("""
            ## The task

            Addition and subtraction of numbers below 100. The corruption flips the operator, so the corrupted prompt has a
            well-defined answer of its own (`72 + 46 = 118`). The tiny model learned addition well but saw subtraction
            rarely: a weak task, as in Wang et al.'s setup, where fine-tuning later improves it (notebook 04).
            """)
        .Code("""
            var data = TaskCatalog.Examples(model, task, examples, seed); // one-token labels, equal-length prompt pairs
            Table.FromRecords(data.Take(6).Select(e => new { clean = e.Clean, corrupted = e.Corrupted, label = e.Label, corrupted_label = e.CorruptedLabel }))
            """)
        .Markdown("""
            ## The metric

            The **logit difference** `logit(clean answer) − logit(corrupted answer)` at the last position, averaged over the
            examples, measures how much the model prefers the right answer. Patching results are reported *normalised*:
            `(m − m_corrupted) / (m_clean − m_corrupted)`, so 1 means "fully restores the clean behaviour" and 0 "no effect".
            `TaskBatches.ForAttribution` tokenises the pairs, checks they align, and builds the metric.
            """)
        .Code("""
            var batch = TaskBatches.ForAttribution(model, data, TaskMetric.LogitDiff);
            double cleanMetric = batch.Metric.Evaluate(model.Forward(batch.Clean, batch.AttentionMask));
            double corruptedMetric = batch.Metric.Evaluate(model.Forward(batch.Corrupted, batch.AttentionMask));
            Console.WriteLine($"clean logit diff: {cleanMetric:F4}");
            Console.WriteLine($"corrupted logit diff: {corruptedMetric:F4}");
            double[,] Normalized(double[,] grid)
            {
                var r = (double[,])grid.Clone();
                for (int i = 0; i < r.GetLength(0); i++)
                    for (int j = 0; j < r.GetLength(1); j++) r[i, j] = (r[i, j] - corruptedMetric) / (cleanMetric - corruptedMetric);
                return r;
            }
            var positions = model.ToStrTokens(data[0].Clean);
            """)
        .Markdown("""
            ## Patching the residual stream

            Patch `blocks.{l}.hook_resid_pre` — everything the model has computed before layer `l` — at one position at a
            time. At layer 0 the residual stream is just the token embedding, so only the position where the prompts differ
            (the operator) can matter, and patching it there restores the clean run exactly: a built-in sanity check. Later
            layers show where the operator's information moves on its way to the final position.
            """)
        .Code("""
            var resid = PatchingResult.LayerByPosition(
                Normalized(ActivationPatching.ResidStream(model, batch.Corrupted, Ablation.Patching(batch.Clean), batch.Metric, batch.AttentionMask)),
                positions, "Residual stream (resid_pre) patching, clean → corrupted", "normalized logit diff");
            resid.ToTable().WriteCsv(Path.Combine(outDir, "resid_pre.csv"));
            resid
            """)
        .Markdown("""
            ## Attention versus MLP outputs

            The same sweep over each layer's attention output and MLP output shows which kind of component writes the
            information. (The tiny model, like Pythia, runs attention and MLP in parallel within a layer.)
            """)
        .Code("""
            display(PatchingResult.LayerByPosition(
                Normalized(ActivationPatching.AttnOut(model, batch.Corrupted, Ablation.Patching(batch.Clean), batch.Metric, batch.AttentionMask)),
                positions, "Attention output patching", "normalized logit diff"));
            PatchingResult.LayerByPosition(
                Normalized(ActivationPatching.MlpOut(model, batch.Corrupted, Ablation.Patching(batch.Clean), batch.Metric, batch.AttentionMask)),
                positions, "MLP output patching", "normalized logit diff")
            """)
        .Markdown("""
            ## Individual heads

            Patching each head's output (`attn.hook_z`) at every position localises the attention part to heads.
            """)
        .Code("""
            var heads = PatchingResult.LayerByHead(
                Normalized(ActivationPatching.HeadOutAllPos(model, batch.Corrupted, Ablation.Patching(batch.Clean), batch.Metric, batch.AttentionMask)),
                "Head output patching (all positions)", "normalized logit diff");
            heads.ToTable().WriteCsv(Path.Combine(outDir, "head_out.csv"));
            heads
            """)
        .Markdown("""
            ## Path patching: direct effects on the logits

            Now the other direction (noising): run the *clean* prompt and replace one sender head's output by its corrupted
            value, but only along its direct path to the logits — every other head and MLP is frozen at its clean value.
            The score is the change as a fraction of the clean–corrupted gap: −1 would mean this single path carries the
            whole difference.
            """)
        .Code("""
            double Gap(double m) => (m - cleanMetric) / (cleanMetric - corruptedMetric);
            double[,] AsGap(double[,] grid)
            {
                var r = (double[,])grid.Clone();
                for (int i = 0; i < r.GetLength(0); i++)
                    for (int j = 0; j < r.GetLength(1); j++) r[i, j] = Gap(r[i, j]);
                return r;
            }
            var direct = PatchingResult.LayerByHead(
                AsGap(PathPatching.SenderSweep(model, batch.Clean, batch.Corrupted, [Receiver.Logits()], batch.Metric, batch.AttentionMask)),
                "Path patching: sender → logits", "Δ metric / gap");
            direct
            """)
        .Markdown("""
            ## Path patching into a head

            Take the head (outside layer 0) with the strongest direct effect and ask which earlier heads feed it: senders
            are patched only along their paths into its query, key and value inputs. Senders in the receiver's own layer or
            later cannot reach it, so their row is exactly zero — another sanity check.
            """)
        .Code("""
            var (rl, rh, _) = Enumerable.Range(model.Config.NLayers > 1 ? 1 : 0, model.Config.NLayers - (model.Config.NLayers > 1 ? 1 : 0))
                .SelectMany(l => Enumerable.Range(0, model.Config.NHeads).Select(h => (l, h, v: Math.Abs(direct[l, h]))))
                .MaxBy(x => x.v);
            Console.WriteLine($"receiver: a{rl}.h{rh}");
            var intoHead = PatchingResult.LayerByHead(
                AsGap(PathPatching.SenderSweep(model, batch.Clean, batch.Corrupted,
                    [new Receiver(rl, rh, ReceiverInput.Q), new Receiver(rl, rh, ReceiverInput.K), new Receiver(rl, rh, ReceiverInput.V)],
                    batch.Metric, batch.AttentionMask)),
                $"Path patching: sender → a{rl}.h{rh} (q, k, v)", "Δ metric / gap");
            intoHead.ToTable().WriteCsv(Path.Combine(outDir, "into_head.csv"));
            intoHead
            """)
        .Markdown("""
            ## What next

            Patching one component at a time costs one forward pass per component and position. Notebook 03 scores *every
            edge* of the computational graph at once with gradients (EAP-IG) and turns the scores into a circuit.
            """);
}
