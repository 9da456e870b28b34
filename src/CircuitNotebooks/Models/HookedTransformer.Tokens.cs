using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

public enum PaddingSide { Right, Left }

/// <summary>A padded batch: tokens [batch, pos] (int64) and attention mask [batch, pos] (1 = real token).</summary>
public sealed record TokenBatch(Tensor Tokens, Tensor AttentionMask, int[] Lengths) : IDisposable
{
    public void Dispose()
    {
        Tokens.Dispose();
        AttentionMask.Dispose();
    }
}

public sealed partial class HookedTransformer
{
    private ITokenizer RequireTokenizer() =>
        Tokenizer ?? throw new InvalidOperationException("This model has no tokenizer; set model.Tokenizer or load with FromPretrained.");

    /// <summary>Token ids of one text, with BOS first when the tokenizer has one and <paramref name="prependBos"/> is set.</summary>
    public int[] Encode(string text, bool prependBos = true)
    {
        var tok = RequireTokenizer();
        var ids = tok.Encode(text);
        return prependBos && tok.BosId is int bos ? [bos, .. ids] : ids.ToArray();
    }

    /// <summary>tokens [1, pos] for one text.</summary>
    public Tensor ToTokens(string text, bool prependBos = true)
    {
        var ids = Encode(text, prependBos);
        return tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length], dtype: ScalarType.Int64, device: Device);
    }

    /// <summary>A padded batch of texts; the mask and positions make padded and unpadded runs agree.</summary>
    public TokenBatch ToTokens(IReadOnlyList<string> texts, bool prependBos = true, PaddingSide side = PaddingSide.Right) =>
        Pad(texts.Select(t => Encode(t, prependBos)).ToList(), side);

    /// <summary>Pads id lists with the tokenizer's pad id (else EOS, else 0); padded positions are masked.</summary>
    public TokenBatch Pad(IReadOnlyList<int[]> sequences, PaddingSide side = PaddingSide.Right)
    {
        if (sequences.Count == 0) throw new ArgumentException("No sequences to pad.", nameof(sequences));
        int max = sequences.Max(s => s.Length);
        if (max == 0) throw new ArgumentException("All sequences are empty.", nameof(sequences));
        long pad = Tokenizer?.PadId ?? Tokenizer?.EosId ?? 0;
        var ids = new long[sequences.Count * max];
        var mask = new long[sequences.Count * max];
        for (int b = 0; b < sequences.Count; b++)
        {
            var s = sequences[b];
            int offset = side == PaddingSide.Left ? max - s.Length : 0;
            for (int i = 0; i < max; i++)
            {
                int j = i - offset;
                bool real = j >= 0 && j < s.Length;
                ids[b * max + i] = real ? s[j] : pad;
                mask[b * max + i] = real ? 1 : 0;
            }
        }
        return new TokenBatch(
            tensor(ids, [sequences.Count, max], dtype: ScalarType.Int64, device: Device).DetachFromDisposeScope(),
            tensor(mask, [sequences.Count, max], dtype: ScalarType.Int64, device: Device).DetachFromDisposeScope(),
            sequences.Select(s => s.Length).ToArray());
    }

    /// <summary>Each token of a text as its surface string (axis labels).</summary>
    public string[] ToStrTokens(string text, bool prependBos = true) =>
        Encode(text, prependBos).Select(RequireTokenizer().TokenToString).ToArray();

    public string Decode(IEnumerable<int> ids) => RequireTokenizer().Decode(ids);

    /// <summary>
    /// Greedy decoding of up to <paramref name="maxNewTokens"/> tokens per prompt. Prompts are left-padded so every
    /// row continues from its last real token; a row stops at EOS when <paramref name="stopAtEos"/>. No KV cache:
    /// each step reruns the prefix, which is fine for the short answers of the task suite.
    /// </summary>
    public string[] Generate(IReadOnlyList<string> prompts, int maxNewTokens, bool prependBos = true, bool stopAtEos = true)
    {
        var seqs = prompts.Select(p => Encode(p, prependBos).ToList()).ToList();
        var generated = prompts.Select(_ => new List<int>()).ToList();
        var done = new bool[prompts.Count];
        int? eos = Tokenizer?.EosId;
        using var _ = no_grad();
        for (int step = 0; step < maxNewTokens && done.Any(d => !d); step++)
        {
            using var scope = NewDisposeScope();
            using var batch = Pad(seqs.Select(s => s.ToArray()).ToList(), PaddingSide.Left);
            var logits = Forward(batch.Tokens, batch.AttentionMask);
            var next = logits.select(1, -1).argmax(-1).to(CPU).data<long>().ToArray();
            for (int b = 0; b < prompts.Count; b++)
            {
                if (done[b]) continue;
                int id = (int)next[b];
                if (stopAtEos && eos == id) { done[b] = true; continue; }
                seqs[b].Add(id);
                generated[b].Add(id);
            }
        }
        return generated.Select(g => Decode(g)).ToArray();
    }

    public string Generate(string prompt, int maxNewTokens, bool prependBos = true, bool stopAtEos = true) =>
        Generate([prompt], maxNewTokens, prependBos, stopAtEos)[0];
}
