using System.Buffers.Binary;

namespace CircuitNotebooks.Models;

/// <summary>
/// Minimal protocol-buffers wire-format walker: yields (field number, varint / fixed value or length-delimited bytes).
/// Enough to read SentencePiece's ModelProto; Microsoft.ML.Tokenizers' own ModelProto parser is internal.
/// </summary>
internal static class ProtoFields
{
    public readonly record struct Field(int Number, ulong Value, ReadOnlyMemory<byte> Bytes);

    public static IEnumerable<Field> Read(ReadOnlyMemory<byte> data, string source)
    {
        int pos = 0;
        while (pos < data.Length)
        {
            ulong key = Varint(data.Span, ref pos, source);
            int number = (int)(key >> 3);
            switch ((int)(key & 7))
            {
                case 0: yield return new(number, Varint(data.Span, ref pos, source), default); break;
                case 1: Need(data, pos, 8, source); yield return new(number, BinaryPrimitives.ReadUInt64LittleEndian(data.Span[pos..]), default); pos += 8; break;
                case 5: Need(data, pos, 4, source); yield return new(number, BinaryPrimitives.ReadUInt32LittleEndian(data.Span[pos..]), default); pos += 4; break;
                case 2:
                    int len = checked((int)Varint(data.Span, ref pos, source));
                    Need(data, pos, len, source);
                    yield return new(number, 0, data.Slice(pos, len));
                    pos += len;
                    break;
                default: throw new InvalidDataException($"{source}: not a protobuf message (wire type {key & 7} at byte {pos}).");
            }
        }
    }

    private static void Need(ReadOnlyMemory<byte> data, int pos, int n, string source)
    {
        if (n < 0 || pos + n > data.Length) throw new InvalidDataException($"{source}: protobuf message is truncated at byte {pos}.");
    }

    private static ulong Varint(ReadOnlySpan<byte> s, ref int pos, string source)
    {
        ulong v = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (pos >= s.Length) throw new InvalidDataException($"{source}: protobuf message is truncated at byte {pos}.");
            byte b = s[pos++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
        throw new InvalidDataException($"{source}: malformed protobuf varint at byte {pos}.");
    }
}
