
namespace CircuitNotebooks.Interactive.Tests.Notebooks;

internal static class Nb01Quickstart
{
    public static NotebookBuilder Build() => new NotebookBuilder()
        .Markdown("""
            # 01 · Quickstart: load a model, run it, cache and inspect activations

            CircuitNotebooks is a mechanistic-interpretability kit for .NET notebooks. This notebook is the tour: load a
            transformer from a local Hugging Face directory, look at its tokens and predictions, record every internal
            activation by its [TransformerLens](https://github.com/TransformerLensOrg/TransformerLens) hook name, and
            intervene on one with a hook.

            The later notebooks build on these pieces to reproduce two papers, scaled down to a tiny model that runs on a
            CPU: **Wang et al. 2025**, *Towards Understanding Fine-Tuning Mechanisms of LLMs via Circuit Analysis*
            (ICML 2025), and **Prakash et al. 2024**, *Fine-Tuning Enhances Existing Mechanisms* (ICLR 2024).

            *Before the first run:* build and pack once from the repository root (`dotnet pack -c Release -o artifacts/packages`,
            see `notebooks/README.md`), so the next cell finds the package.
            """)
        .Code(NotebookSources.Setup + """

            using CircuitNotebooks.Models;
            using CircuitNotebooks.Hooks;
            using CircuitNotebooks.Patching;
            using CircuitNotebooks.Interactive;
            using CircuitNotebooks.Interactive.Charts;
            using TorchSharp;
            using static TorchSharp.torch;
            """)
        .Markdown(NotebookSources.ParametersNote)
        .Parameters("""
            string modelDir = "../data/models/tiny-neox"; // a local Hugging Face model directory
            string device = "cpu";                        // "cuda" on a GPU machine (CUDA build)
            string prompt = "72 - 46 =";                  // for a real model try "The Eiffel Tower is in the city of"
            string outDir = "out/01-quickstart";          // CSV exports land here
            """)
        .Markdown("""
            ## The model

            `FromPretrained` reads `config.json`, the safetensors weights and `tokenizer.json`, and maps the weights onto one
            `HookedTransformer` class that covers GPT-2, GPT-NeoX/Pythia and Llama-style models. The default is the kit's
            own tiny GPT-NeoX (6 layers, 8 heads, parallel attention and MLP like Pythia), trained on small arithmetic
            and sequence tasks, with subtraction left weak so that fine-tuning has something to improve (notebook 07 uses
            the previous 4 × 4 model, `tiny-neox-entity`, which also tracks entities). Displaying the model
            shows its architecture, parameter count, device, dtype and every hook point.
            """)
        .Code(NotebookSources.LoadModel)
        .Markdown("""
            ## Tokens

            Every experiment starts from token ids. The tiny model has a word-level vocabulary in which each number up to
            299 is one token; real models use byte-level BPE, where a leading space is part of a token (`ĠParis`). A
            beginning-of-sequence token is prepended when the tokenizer defines one.
            """)
        .Code("""
            var strTokens = model.ToStrTokens(prompt);
            Console.WriteLine($"{strTokens.Length} tokens: {string.Join(" | ", strTokens)}");
            var tokens = model.ToTokens(prompt); // [batch = 1, positions]
            tokens
            """)
        .Markdown("""
            ## Running the model

            `Forward` returns logits `[batch, position, vocabulary]`. The prediction for the next token is read at the last
            position; the softmax turns logits into probabilities.
            """)
        .Code("""
            var logits = model.Forward(tokens);
            var probs = logits[0, -1].softmax(-1);
            var (topP, topIds) = probs.topk(5);
            var predictedId = (int)topIds[0].item<long>();
            Console.WriteLine($"{prompt} →{model.Generate(prompt, 1)}");
            Table.FromRecords(Enumerable.Range(0, 5).Select(i => new
            {
                rank = i + 1,
                token = model.Tokenizer!.TokenToString((int)topIds[i].item<long>()),
                probability = Math.Round(topP[i].item<float>(), 4),
            }))
            """)
        .Markdown("""
            ## Caching activations

            `RunWithCache` runs the model once and records the output of every hook point. The names are TransformerLens's:
            `hook_embed`, `blocks.{l}.hook_resid_pre`, `blocks.{l}.attn.hook_q|k|v|z|pattern`, `blocks.{l}.hook_attn_out`,
            `blocks.{l}.mlp.hook_post`, `blocks.{l}.hook_mlp_out`, `blocks.{l}.hook_resid_post`. Shapes follow the model's
            config: `d_model` for the residual stream, `[heads, d_head]` for queries, `[heads, query, key]` for patterns.
            """)
        .Code("""
            var (_, cache) = model.RunWithCache(tokens);
            foreach (var name in new[] { "hook_embed", "blocks.0.hook_resid_pre", "blocks.0.attn.hook_q", "blocks.0.attn.hook_pattern", "blocks.0.mlp.hook_post" })
                Console.WriteLine($"{name}: [{string.Join(", ", cache[name].shape)}]");
            cache
            """)
        .Markdown("""
            ## Attention patterns

            Each head's pattern says, for every query position (rows), how much it reads from every earlier key position
            (columns). Here are the heads of the last layer — the ones closest to the prediction.
            """)
        .Code("""
            int lastLayer = model.Config.NLayers - 1;
            for (int h = 0; h < Math.Min(4, model.Config.NHeads); h++)
                display(AttentionPatterns.Pattern(TensorData.ToMatrix(cache[$"blocks.{lastLayer}.attn.hook_pattern"][0, h]), strTokens,
                    $"Layer {lastLayer}, head {h}"));
            """)
        .Markdown("""
            ## Direct logit attribution

            The residual stream at the last position is a sum: embedding + every attention output + every MLP output. The
            final norm is (nearly) linear once its scale is fixed, so each component's contribution to the predicted token's
            logit can be read off separately. The components add up to the logit, up to constant bias terms.
            """)
        .Code("""
            var (components, labels) = cache.DecomposeResid();
            var dla = TensorData.ToVector(cache.LogitAttribution(components, tensor(new long[] { predictedId })));
            Console.WriteLine($"logit {logits[0, -1, predictedId].item<float>():F3}; sum of components {dla.Sum():F3}");
            Bars.Grouped(labels, [new BarSeries("contribution", dla)],
                $"Direct logit attribution to '{model.Tokenizer!.TokenToString(predictedId)}'", "logit contribution")
            """)
        .Markdown("""
            ## Intervening with hooks

            A hook can also *replace* an activation. Zero-ablating one head at a time (`attn.hook_z`, the head's output
            before the output projection) and measuring the change in the predicted token's logit is the crudest circuit
            test; notebook 02 refines it into activation and path patching.
            """)
        .Code("""
            double baseline = logits[0, -1, predictedId].item<float>();
            var effects = new double[model.Config.NLayers, model.Config.NHeads];
            for (int l = 0; l < model.Config.NLayers; l++)
                for (int h = 0; h < model.Config.NHeads; h++)
                {
                    using var scope = torch.NewDisposeScope();
                    long head = h;
                    var ablated = model.RunWithHooks(tokens,
                        [($"blocks.{l}.attn.hook_z", (act, hook) => act.index_fill(2, tensor(new[] { head }, device: act.device), 0))]);
                    effects[l, h] = ablated[0, -1, predictedId].item<float>() - baseline;
                }
            PatchingResult.LayerByHead(effects, "Zero-ablating each head: change in the predicted token's logit", "Δ logit")
            """)
        .Markdown("""
            ## Exporting

            Every result converts to a `Table` (`ToTable()`), which displays as an HTML table and saves as CSV (`WriteCsv`).
            """)
        .Code("""
            var shapes = cache.ToTable();
            Console.WriteLine($"wrote {shapes.WriteCsv(Path.Combine(outDir, "cache_shapes.csv"))}");
            cache.Dispose();
            shapes
            """);
}
