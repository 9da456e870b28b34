namespace CircuitNotebooks.Circuits;

/// <summary>One edge of a circuit: source forward index, destination index (per the circuit's layout), name, score.</summary>
public readonly record struct CircuitEdge(int Forward, int Destination, string Name, float Score);
