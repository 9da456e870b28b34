using CircuitNotebooks.Models;

namespace CircuitNotebooks.Cli.Infrastructure;

/// <summary>Saves a model as a Hugging Face folder inside --out, tokenizer files copied from the source folder.</summary>
public static class ModelExport
{
    private static readonly string[] TokenizerFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt", "generation_config.json"];

    /// <summary>Built under a temporary name and renamed, so the folder appears complete or not at all.</summary>
    public static string Save(HookedTransformer model, string sourceDirectory, OutputDirectory dir, string name)
    {
        var final = dir.PathOf(name);
        var tmp = final + OutputDirectory.TempSuffix + "-dir";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        try
        {
            model.SavePretrained(tmp);
            foreach (var f in TokenizerFiles)
                if (File.Exists(Path.Combine(sourceDirectory, f))) File.Copy(Path.Combine(sourceDirectory, f), Path.Combine(tmp, f));
            if (Directory.Exists(final)) Directory.Delete(final, true);
            Directory.Move(tmp, final);
            return final;
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
            throw;
        }
    }
}
