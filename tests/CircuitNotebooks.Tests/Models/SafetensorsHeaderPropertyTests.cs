using System.Buffers.Binary;
using System.Text;
using CircuitNotebooks.Models;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CircuitNotebooks.Tests.Models;

/// <summary>Whatever bytes arrive, the header parser either succeeds or throws SafetensorsFormatException.</summary>
public sealed class SafetensorsHeaderPropertyTests
{
    private static bool OnlyFormatErrors(byte[] file)
    {
        try
        {
            var h = SafetensorsHeader.Read(new MemoryStream(file), "fuzz.safetensors");
            // A header that parses must describe byte ranges inside the file.
            return h.Tensors.Values.All(t => h.DataStart + t.End <= file.Length);
        }
        catch (SafetensorsFormatException e)
        {
            return e.Message.StartsWith("fuzz.safetensors");
        }
    }

    private const string Valid =
        "{\"__metadata__\":{\"a\":\"b\"},\"x\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]}," +
        "\"y\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[8,14]}}";

    private static readonly string[] Fragments =
        ["{", "}", "[", "]", ",", ":", "\"", "-1", "0", "8", "99999999999999999999", "1e3", "null", "true", "\"F16\"",
         "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\\u00e9", "\\ud800", "\u00ff", "2.5", "[]", "{}"];

    /// <summary>Mutates a valid header with random JSON-ish edits, and sometimes lies about lengths.</summary>
    private static byte[] Mutate(int seed)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder(Valid);
        int edits = rng.Next(1, 4);
        for (int i = 0; i < edits; i++)
        {
            int pos = rng.Next(sb.Length + 1);
            switch (rng.Next(3))
            {
                case 0: sb.Insert(pos, Fragments[rng.Next(Fragments.Length)]); break;
                case 1: if (pos < sb.Length) sb.Remove(pos, Math.Min(rng.Next(1, 6), sb.Length - pos)); break;
                default: if (pos < sb.Length) sb[pos] = (char)rng.Next(32, 127); break;
            }
        }
        var json = Encoding.UTF8.GetBytes(sb.ToString());
        if (rng.Next(8) == 0) json[rng.Next(json.Length)] = (byte)rng.Next(128, 256); // invalid UTF-8
        int data = rng.Next(10) == 0 ? rng.Next(0, 30) : 14;
        var file = new byte[8 + json.Length + data];
        long declared = rng.Next(6) switch { 0 => rng.NextInt64(), 1 => json.Length + rng.Next(-3, 4), _ => json.Length };
        BinaryPrimitives.WriteInt64LittleEndian(file, declared);
        json.CopyTo(file, 8);
        int cut = rng.Next(10) == 0 ? rng.Next(file.Length) : file.Length;
        return file[..cut];
    }

    [Fact]
    public void ValidBaseHeaderParses() => Assert.Equal(2, SafetensorsHeader.Read(new MemoryStream(Mutate0()), "v").Tensors.Count);

    private static byte[] Mutate0()
    {
        var json = Encoding.UTF8.GetBytes(Valid);
        var file = new byte[8 + json.Length + 14];
        BinaryPrimitives.WriteInt64LittleEndian(file, json.Length);
        json.CopyTo(file, 8);
        return file;
    }

    [Fact]
    public void RandomBytesOnlyEverRaiseFormatErrors() =>
        Prop.ForAll<byte[]>(OnlyFormatErrors).QuickCheckThrowOnFailure();

    [Fact]
    public void RandomBytesAfterPlausibleLengthOnlyEverRaiseFormatErrors() =>
        Prop.ForAll<byte[]>(tail =>
        {
            var file = new byte[8 + (tail?.Length ?? 0)];
            BinaryPrimitives.WriteInt64LittleEndian(file, tail?.Length ?? 0);
            tail?.CopyTo(file, 8);
            if (file.Length > 8) file[8] = (byte)'{';
            return OnlyFormatErrors(file);
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void MutatedHeadersOnlyEverRaiseFormatErrors() =>
        Prop.ForAll<int>(seed => OnlyFormatErrors(Mutate(seed)))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(3000));
}
