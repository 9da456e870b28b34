namespace CircuitNotebooks.Models;

/// <summary>
/// A safetensors file (or shard index) is malformed. The message always names the file and, where one is involved,
/// the tensor, so a user can tell which download is broken.
/// </summary>
public sealed class SafetensorsFormatException : IOException
{
    public string FilePath { get; }
    public string? TensorName { get; }

    public SafetensorsFormatException(string filePath, string? tensorName, string problem, Exception? inner = null)
        : base(Format(filePath, tensorName, problem), inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    private static string Format(string file, string? tensor, string problem) =>
        tensor is null ? $"{file}: {problem}" : $"{file}: tensor '{tensor}': {problem}";
}
