using System.Text;
using System.Text.RegularExpressions;

namespace CircuitNotebooks.Tests.Models;

/// <summary>
/// Independent, deliberately naive byte-level BPE written from the GPT-2 paper's encoder.py description: byte→unicode
/// table, GPT-2 regex, then repeatedly merge every occurrence of the lowest-ranked adjacent pair.
/// </summary>
internal sealed class ReferenceByteLevelBpe(Dictionary<string, int> vocab, List<(string A, string B)> merges)
{
    public static readonly Regex Pattern = new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+");

    public static Dictionary<int, char> BytesToUnicode()
    {
        var bs = new List<int>();
        for (int b = '!'; b <= '~'; b++) bs.Add(b);
        for (int b = 0xA1; b <= 0xAC; b++) bs.Add(b);
        for (int b = 0xAE; b <= 0xFF; b++) bs.Add(b);
        var cs = new List<int>(bs);
        int n = 0;
        for (int b = 0; b < 256; b++)
            if (!bs.Contains(b)) { bs.Add(b); cs.Add(256 + n); n++; }
        return bs.Zip(cs).ToDictionary(p => p.First, p => (char)p.Second);
    }

    private static readonly Dictionary<int, char> Map = BytesToUnicode();

    public List<int> Encode(string text)
    {
        var rank = merges.Select((m, i) => (m, i)).ToDictionary(x => x.m, x => x.i);
        var ids = new List<int>();
        foreach (Match m in Pattern.Matches(text))
        {
            var word = Encoding.UTF8.GetBytes(m.Value).Select(b => Map[b].ToString()).ToList();
            while (word.Count > 1)
            {
                (string, string)? best = null;
                int bestRank = int.MaxValue;
                for (int i = 0; i + 1 < word.Count; i++)
                    if (rank.TryGetValue((word[i], word[i + 1]), out var r) && r < bestRank) { bestRank = r; best = (word[i], word[i + 1]); }
                if (best is not { } pair) break;
                var next = new List<string>();
                for (int i = 0; i < word.Count;)
                {
                    if (i + 1 < word.Count && word[i] == pair.Item1 && word[i + 1] == pair.Item2) { next.Add(pair.Item1 + pair.Item2); i += 2; }
                    else { next.Add(word[i]); i++; }
                }
                word = next;
            }
            ids.AddRange(word.Select(t => vocab[t]));
        }
        return ids;
    }
}
