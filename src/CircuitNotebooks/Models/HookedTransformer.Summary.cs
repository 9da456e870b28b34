namespace CircuitNotebooks.Models;

[TypeFormatterSource(typeof(SummaryFormatterSource))]
public sealed partial class HookedTransformer : ISummarizable
{
    /// <summary>Architecture, shapes, parameter count, device, dtype and hook points, as shown in a notebook.</summary>
    public ResultSummary Summarize()
    {
        var c = Config;
        var hooks = HookPoints.Select(h => h.Name).ToList();
        return ResultSummary.Create("HookedTransformer")
            .Add("architecture", c.Architecture.ToString())
            .Add("layers", c.NLayers)
            .Add("d_model", c.DModel)
            .Add("heads", c.KvHeads == c.NHeads ? $"{c.NHeads} (d_head {c.DHead})" : $"{c.NHeads} query / {c.KvHeads} key-value (d_head {c.DHead})")
            .Add("d_mlp", c.GatedMlp ? $"{c.DMlp} (gated)" : c.DMlp.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Add("vocabulary", c.DVocab)
            .Add("positions", c.Rotary ? $"rotary on {c.RotaryDim} of {c.DHead} head dims" : $"learned, n_ctx {c.NCtx}")
            .Add("block", c.ParallelAttnMlp ? "parallel attention + MLP" : "attention then MLP")
            .Add("norm / activation", $"{c.Norm} / {c.Act}")
            .Add("parameters", ParameterCount)
            .Add("device", Device.ToString())
            .Add("dtype", DType.ToString())
            .Add("tokenizer", Tokenizer is null ? "none" : $"{Tokenizer.VocabSize:N0} tokens")
            .Add("hook points", $"{hooks.Count} ({hooks[0]} … {hooks[^1]})")
            .Build();
    }
}
