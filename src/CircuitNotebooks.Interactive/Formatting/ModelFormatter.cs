using CircuitNotebooks.Interactive.Html;
using CircuitNotebooks.Models;

namespace CircuitNotebooks.Interactive.Formatting;

/// <summary>A model: its summary (architecture, shapes, parameters, device, dtype) and every hook name with its shape rule.</summary>
public sealed class ModelFormatter : NotebookFormatter<HookedTransformer>
{
    protected override bool Format(HookedTransformer value, TextWriter writer)
    {
        var hooks = value.HookPoints.Select(h => h.Name).ToList();
        writer.Write(EngineHtml.Block(value.Summarize().ToHtml(), EngineHtml.Details($"{hooks.Count} hook points (TransformerLens names)", hooks)));
        return true;
    }
}

/// <summary>An activation cache: one row per entry with its shape.</summary>
public sealed class ActivationCacheFormatter : NotebookFormatter<CircuitNotebooks.Hooks.ActivationCache>
{
    protected override bool Format(CircuitNotebooks.Hooks.ActivationCache value, TextWriter writer)
    {
        var rows = value.Shapes.Select(kv => (IReadOnlyList<object?>)[kv.Key, "[" + string.Join(", ", kv.Value) + "]"]);
        var table = HtmlTable.Render(["name", "shape"], rows, maxRows: 500);
        // A full cache has dozens of entries per layer: keep the table one click away.
        writer.Write(EngineHtml.Block(value.Summarize().ToHtml(),
            $"<details class=\"cn-details\"><summary>{value.Count} entries: names and shapes</summary>{table}</details>"));
        return true;
    }
}
