using System.Text;

namespace CircuitNotebooks.Models;

/// <summary>
/// GPT-2's reversible byte ↔ printable-character map: printable Latin-1 bytes stand for themselves, the other 68
/// bytes take code points from U+0100 upwards in byte order (so a space is 'Ġ', a newline 'Ċ').
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = Build();
    private static readonly Dictionary<char, byte> CharToByte =
        Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    private static char[] Build()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    public static char Encode(byte b) => ByteToChar[b];

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (var b in bytes) sb.Append(ByteToChar[b]);
        return sb.ToString();
    }

    /// <summary>Appends the bytes a token string stands for; false if it holds a character outside the alphabet.</summary>
    public static bool TryDecode(string token, List<byte> into)
    {
        foreach (var c in token)
        {
            if (!CharToByte.TryGetValue(c, out var b)) return false;
            into.Add(b);
        }
        return true;
    }
}
