using System.Buffers.Binary;
using System.Text;

namespace CircuitNotebooks.Native;

/// <summary>
/// Edits the <c>.gnu.version_r</c> (SHT_GNU_verneed) section of a 64-bit little-endian ELF shared object so that
/// chosen symbol-version requirements are flagged VER_FLG_WEAK. The dynamic loader then accepts a library whose
/// dependency lacks that version (it only warns in LD_DEBUG), which is what lets TorchSharp's native shim load on
/// libstdc++ builds older than the one it was linked against.
/// </summary>
public static class ElfVersionNeedPatcher
{
    public const ushort VerFlagWeak = 0x2;
    private const uint ShtGnuVerneed = 0x6ffffffe;

    /// <summary>A version requirement as found in the file.</summary>
    public sealed record VersionNeed(string File, string Version, ushort Flags)
    {
        public bool IsWeak => (Flags & VerFlagWeak) != 0;
    }

    /// <summary>Lists every (file, version, flags) requirement of the ELF image.</summary>
    public static IReadOnlyList<VersionNeed> ReadVersionNeeds(byte[] elf, string? nameForErrors = null)
    {
        var list = new List<VersionNeed>();
        Walk(elf, nameForErrors ?? "<elf>", (file, version, flagsOffset) =>
            list.Add(new VersionNeed(file, version, BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(flagsOffset)))));
        return list;
    }

    /// <summary>Flags every requirement whose version name is in <paramref name="versions"/> as weak, in place.
    /// Returns how many entries changed (entries already weak are not counted).</summary>
    public static int MarkWeak(byte[] elf, IReadOnlyCollection<string> versions, string? nameForErrors = null)
    {
        int changed = 0;
        Walk(elf, nameForErrors ?? "<elf>", (_, version, flagsOffset) =>
        {
            if (!versions.Contains(version)) return;
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(flagsOffset));
            if ((flags & VerFlagWeak) != 0) return;
            BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(flagsOffset), (ushort)(flags | VerFlagWeak));
            changed++;
        });
        return changed;
    }

    private static void Walk(byte[] elf, string name, Action<string, string, int> onAux)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException($"{name}: not an ELF file.");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException($"{name}: only 64-bit little-endian ELF is supported (class {elf[4]}, data {elf[5]}).");

        var span = elf.AsSpan();
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(span[0x28..]);
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3A..]);
        ushort shnum = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3C..]);
        if (shentsize < 64 || shoff + (ulong)shentsize * shnum > (ulong)elf.Length)
            throw new InvalidDataException($"{name}: section header table lies outside the file.");

        for (int i = 0; i < shnum; i++)
        {
            var sh = span.Slice((int)shoff + i * shentsize, shentsize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]) != ShtGnuVerneed) continue;
            long off = (long)BinaryPrimitives.ReadUInt64LittleEndian(sh[0x18..]);
            long size = (long)BinaryPrimitives.ReadUInt64LittleEndian(sh[0x20..]);
            int link = (int)BinaryPrimitives.ReadUInt32LittleEndian(sh[0x28..]);
            if (off < 0 || off + size > elf.Length || link >= shnum)
                throw new InvalidDataException($"{name}: .gnu.version_r lies outside the file.");
            var strSh = span.Slice((int)shoff + link * shentsize, shentsize);
            long strOff = (long)BinaryPrimitives.ReadUInt64LittleEndian(strSh[0x18..]);
            long strSize = (long)BinaryPrimitives.ReadUInt64LittleEndian(strSh[0x20..]);
            if (strOff < 0 || strOff + strSize > elf.Length)
                throw new InvalidDataException($"{name}: string table of .gnu.version_r lies outside the file.");

            string Str(uint o) => o >= strSize ? throw new InvalidDataException($"{name}: bad string offset {o}.")
                : ReadCString(elf.AsSpan((int)(strOff + o), (int)(strSize - o)));

            long need = off;
            for (int guard = 0; guard < 100_000; guard++)
            {
                if (need + 16 > off + size) throw new InvalidDataException($"{name}: truncated Verneed entry.");
                var vn = span.Slice((int)need, 16);
                ushort cnt = BinaryPrimitives.ReadUInt16LittleEndian(vn[2..]);
                string file = Str(BinaryPrimitives.ReadUInt32LittleEndian(vn[4..]));
                uint auxRel = BinaryPrimitives.ReadUInt32LittleEndian(vn[8..]);
                uint next = BinaryPrimitives.ReadUInt32LittleEndian(vn[12..]);
                long aux = need + auxRel;
                for (int a = 0; a < cnt; a++)
                {
                    if (aux + 16 > off + size) throw new InvalidDataException($"{name}: truncated Vernaux entry.");
                    var va = span.Slice((int)aux, 16);
                    string version = Str(BinaryPrimitives.ReadUInt32LittleEndian(va[8..]));
                    onAux(file, version, (int)aux + 4);
                    uint auxNext = BinaryPrimitives.ReadUInt32LittleEndian(va[12..]);
                    if (auxNext == 0) break;
                    aux += auxNext;
                }
                if (next == 0) break;
                need += next;
            }
        }
    }

    private static string ReadCString(ReadOnlySpan<byte> s)
    {
        int end = s.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? s : s[..end]);
    }
}
