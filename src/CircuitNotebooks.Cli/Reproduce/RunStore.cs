using System.Globalization;
using System.Text.Json;
using CircuitNotebooks.Circuits;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Models;

namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>A circuit as stored in the output folder, with the faithfulness measured when it was found.</summary>
public sealed record StoredCircuit(Circuit Circuit, double Faithfulness);

/// <summary>
/// What a reproduce run has finished, in its output folder: config.json (the settings), circuits/*.json (each with an
/// .eval.json beside it, written second, so a circuit counts as done only when both exist) and results/*.json
/// (one per finished phase). A re-run reads these instead of recomputing.
/// </summary>
public sealed class RunStore(OutputDirectory dir)
{
    public const string ConfigFile = "config.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public OutputDirectory Directory { get; } = dir;

    /// <summary>Writes config.json, or checks that an earlier run in this folder used the same settings.</summary>
    public void BeginOrResume(ReproduceSettings s, out bool resumed)
    {
        resumed = false;
        if (Directory.Exists(ConfigFile))
        {
            ReproduceSettings old;
            try { old = JsonSerializer.Deserialize<ReproduceSettings>(File.ReadAllText(Directory.PathOf(ConfigFile)), ReproduceSettings.Json)!; }
            catch (JsonException e) { throw CliException.Usage($"--out '{s.Out}': its {ConfigFile} is unreadable ({e.Message}); use another --out or delete the folder."); }
            if (old.ResultKey() != s.ResultKey())
                throw CliException.Usage($"--out '{s.Out}' holds a run with other settings ({Differences(old, s)}). " +
                                         "Use another --out, or delete the folder to start over.");
            resumed = true;
        }
        Directory.WriteText(ConfigFile, s.ToJson());
    }

    private static string Differences(ReproduceSettings a, ReproduceSettings b)
    {
        using var ja = JsonDocument.Parse(a.ResultKey());
        using var jb = JsonDocument.Parse(b.ResultKey());
        var diffs = ja.RootElement.EnumerateObject()
            .Where(p => jb.RootElement.TryGetProperty(p.Name, out var q) && p.Value.GetRawText() != q.GetRawText())
            .Select(p => $"{p.Name}: {p.Value.GetRawText()} then, {jb.RootElement.GetProperty(p.Name).GetRawText()} now");
        return string.Join("; ", diffs);
    }

    public static string CircuitPath(string group, string name) => Path.Combine("circuits", group, name + ".json");
    public static string StepName(int step) => $"step-{step.ToString("D6", CultureInfo.InvariantCulture)}";

    public bool HasCircuit(string rel) => Directory.Exists(rel) && Directory.Exists(EvalPath(rel));

    public StoredCircuit? TryLoadCircuit(string rel, ModelConfig model)
    {
        if (!HasCircuit(rel)) return null;
        var circuit = CircuitFile.Load(Directory.PathOf(rel), model);
        var eval = JsonSerializer.Deserialize<EvalRecord>(File.ReadAllText(Directory.PathOf(EvalPath(rel))), Json)!;
        return new StoredCircuit(circuit, eval.Faithfulness);
    }

    public StoredCircuit SaveCircuit(string rel, Circuit circuit, double faithfulness)
    {
        Directory.WriteText(rel, CircuitFile.ToJson(circuit, includeAllScores: true));
        Directory.WriteText(EvalPath(rel), JsonSerializer.Serialize(new EvalRecord(faithfulness), Json));
        return new StoredCircuit(circuit, faithfulness);
    }

    public T? TryLoadResult<T>(string name) where T : class =>
        Directory.Exists(ResultPath(name)) ? JsonSerializer.Deserialize<T>(File.ReadAllText(Directory.PathOf(ResultPath(name))), Json) : null;

    public void SaveResult<T>(string name, T value) => Directory.WriteText(ResultPath(name), JsonSerializer.Serialize(value, Json));

    private static string ResultPath(string name) => Path.Combine("results", name + ".json");
    private static string EvalPath(string rel) => Path.ChangeExtension(rel, ".eval.json");

    private sealed record EvalRecord(double Faithfulness);
}
