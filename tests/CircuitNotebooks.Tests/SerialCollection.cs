using Xunit;

namespace CircuitNotebooks.Tests;

/// <summary>
/// Tests that measure process-wide state (RSS, timings) run alone: xunit runs this collection after the parallel ones,
/// so allocations of other tests cannot show up as growth here.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial (process-wide measurements)";
}
