using CircuitNotebooks.Models;
using static TorchSharp.torch;

namespace CircuitNotebooks.FineTuning;

/// <summary>
/// Checkpoint tensors as safetensors files, so checkpoints open in Python (safetensors, PEFT) as well as here. Writes are
/// atomic (temp file + rename) through <see cref="SafetensorsFile.Write"/>.
/// </summary>
public sealed class SafetensorsTensorStore : ITensorStore
{
    public void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? meta)
    {
        using var scope = NewDisposeScope();
        // The format stores dense CPU data; detach so autograd never sees the copies.
        var cpu = tensors.ToDictionary(kv => kv.Key, kv => kv.Value.detach().to(CPU).contiguous(), StringComparer.Ordinal);
        SafetensorsFile.Write(path, cpu, meta);
    }

    public Dictionary<string, Tensor> Load(string path)
    {
        using var file = SafetensorsFile.Open(path);
        var all = file.LoadAll();
        // Callers own the tensors: keep them out of whatever dispose scope is open at the call site.
        foreach (var t in all.Values) t.DetachFromDisposeScope();
        return all;
    }

    /// <summary>The metadata pairs of a file without reading its tensors.</summary>
    public static IReadOnlyDictionary<string, string> ReadMeta(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return new Dictionary<string, string>(file.Metadata);
    }
}
