namespace CircuitNotebooks.Circuits;

/// <summary>A circuit was used with a model whose shapes (fingerprint) differ from the one it was found on.</summary>
public sealed class CircuitModelMismatchException(string circuitFingerprint, string modelFingerprint, string source)
    : InvalidOperationException($"{source}: circuit was made for model '{circuitFingerprint}' but the model is '{modelFingerprint}'.")
{
    public string CircuitFingerprint { get; } = circuitFingerprint;
    public string ModelFingerprint { get; } = modelFingerprint;
}
