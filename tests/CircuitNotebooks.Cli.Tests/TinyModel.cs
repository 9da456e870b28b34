using CircuitNotebooks.Cli.Tools;

namespace CircuitNotebooks.Cli.Tests;

/// <summary>An untrained default-architecture model with the tiny word-level tokenizer, saved once per test run.</summary>
internal static class TinyModel
{
    private static readonly Lazy<string> Dir = new(() =>
    {
        var dir = TempDirs.NewPath("tiny-model");
        using var model = DefaultModelRecipe.CreateUntrained(seed: 7);
        model.SavePretrained(dir);
        DefaultModelRecipe.WriteTokenizer(dir);
        return dir;
    });

    public static string Path => Dir.Value;
}
