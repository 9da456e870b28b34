using CircuitNotebooks.Cli.Tools;

namespace CircuitNotebooks.Cli.Tests;

/// <summary>
/// An untrained model of the default architecture, shrunk (4 layers × 4 heads, d 64) so the CLI tests stay quick on
/// two cores, with the tiny word-level tokenizer; saved once per test run.
/// </summary>
internal static class TinyModel
{
    private static readonly Lazy<string> Dir = new(() =>
    {
        var dir = TempDirs.NewPath("tiny-model");
        using var model = DefaultModelRecipe.CreateUntrained(seed: 7,
            DefaultModelRecipe.ConfigFor(new PretrainSettings(Layers: 4, Heads: 4, DModel: 64)));
        model.SavePretrained(dir);
        DefaultModelRecipe.WriteTokenizer(dir);
        return dir;
    });

    public static string Path => Dir.Value;
}
