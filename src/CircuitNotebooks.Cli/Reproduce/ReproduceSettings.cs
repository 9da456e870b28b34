namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>Everything `reproduce` needs; written to the output folder as config.json.</summary>
public sealed record ReproduceSettings
{
    public string Model { get; init; } = "data/models/tiny-neox";
    public string Device { get; init; } = "cpu";
    public string Task { get; init; } = "addsub";
    public int Steps { get; init; } = 100;
    public int CheckpointEvery { get; init; } = 25;
    public string[] Methods { get; init; } = ["full", "lora", "circuitlora"];
    public double EdgeFraction { get; init; } = 0.05;
    public int IgSteps { get; init; } = 5;
    public int Seed { get; init; } = 42;
    public int Examples { get; init; } = 1000;
    public int AttributionExamples { get; init; } = 32;
    public int LoraRank { get; init; } = 8;
    public double FullLearningRate { get; init; } = 3e-4;
    public double LoraLearningRate { get; init; } = 3e-3;
    public string Out { get; init; } = "out/reproduce";
}
