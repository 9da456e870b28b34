namespace CircuitNotebooks.Models;

/// <summary>A state dict does not fit the architecture: lists every missing, unexpected and mis-shaped tensor at once.</summary>
public sealed class WeightMappingException : IOException
{
    public IReadOnlyList<string> Problems { get; }

    public WeightMappingException(string what, IReadOnlyList<string> problems)
        : base($"{what}: {problems.Count} problem(s):\n  " + string.Join("\n  ", problems))
    {
        Problems = problems;
    }
}
