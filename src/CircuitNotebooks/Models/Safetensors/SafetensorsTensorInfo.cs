namespace CircuitNotebooks.Models;

/// <summary>One header entry. Offsets are relative to the start of the data section (after the header).</summary>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
    public long NumElements => Shape.Aggregate(1L, (a, b) => a * b);
}
