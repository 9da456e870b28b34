using static TorchSharp.torch;

namespace CircuitNotebooks.FineTuning;

/// <summary>Reads and writes named tensors (checkpoint weights, optimizer moments) in one file.</summary>
public interface ITensorStore
{
    void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? meta);
    Dictionary<string, Tensor> Load(string path);
}
