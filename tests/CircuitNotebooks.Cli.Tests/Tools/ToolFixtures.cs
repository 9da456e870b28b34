using CircuitNotebooks.Models;

namespace CircuitNotebooks.Cli.Tests.Tools;

/// <summary>Tiny configs for the tool tests (2 layers, small dims).</summary>
internal static class ToolFixtures
{
    public static ModelConfig Gpt2 => new()
    {
        Architecture = Architecture.Gpt2, NLayers = 2, DModel = 16, NHeads = 4, DMlp = 32, DVocab = 40, NCtx = 32,
        Act = Activation.GeluNew,
    };

    public static ModelConfig LlamaGqa => new()
    {
        Architecture = Architecture.Llama, NLayers = 2, DModel = 16, NHeads = 4, NKeyValueHeads = 2, DMlp = 24,
        DVocab = 40, NCtx = 32, Norm = NormKind.RmsNorm, Act = Activation.Silu, Rotary = true, RotaryDim = 4,
        GatedMlp = true, AttnBias = false, MlpBias = false,
    };
}

internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>Tests that measure process-wide state (RSS) run alone, after the parallel ones.</summary>
[Xunit.CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial (process-wide measurements)";
}
