using System.Text;

namespace CircuitNotebooks.Models;

/// <summary>
/// A SentencePiece BPE <c>tokenizer.model</c> (Llama 1/2, Mistral, TinyLlama) turned into the tokenizer.json that
/// transformers' LlamaConverter would make: merges = every split of a piece into two pieces, ordered by the piece's
/// score; Prepend("▁") + Replace(" " → "▁") normalizer; byte fallback as the model says; control and unknown pieces
/// as special added tokens. Encoding then runs through <see cref="BpeModel"/> (Microsoft.ML.Tokenizers' BpeTokenizer).
/// Not LlamaTokenizer: in Microsoft.ML.Tokenizers 2.0.1 it merges the rightmost of two equal-score pairs first, where
/// SentencePiece and HF take the leftmost ("..." → ".", ".." instead of "..", "."); the fixture test shows the difference.
/// </summary>
internal static class SentencePieceModelFile
{
    private const int Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Byte = 6;

    private sealed record Piece(string Text, float Score, int Type);

    public static (BpeModel Model, TextNormalizer Normalizer, List<AddedToken> Added) Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var pieces = new List<Piece>();
        int modelType = 1; // UNIGRAM is the proto default
        bool byteFallback = false, addDummyPrefix = true, removeExtraWhitespaces = true, escapeWhitespaces = true, whitespaceAsSuffix = false;
        bool charsmap = false;
        foreach (var f in ProtoFields.Read(bytes, path))
        {
            switch (f.Number)
            {
                case 1: pieces.Add(ReadPiece(f.Bytes, path)); break;
                case 2: // TrainerSpec
                    foreach (var t in ProtoFields.Read(f.Bytes, path))
                    {
                        if (t.Number == 3) modelType = (int)t.Value;
                        else if (t.Number == 35) byteFallback = t.Value != 0;
                        else if (t.Number == 24) whitespaceAsSuffix = t.Value != 0;
                    }
                    break;
                case 3: // NormalizerSpec
                    foreach (var n in ProtoFields.Read(f.Bytes, path))
                    {
                        if (n.Number == 2) charsmap = n.Bytes.Length > 0;
                        else if (n.Number == 3) addDummyPrefix = n.Value != 0;
                        else if (n.Number == 4) removeExtraWhitespaces = n.Value != 0;
                        else if (n.Number == 5) escapeWhitespaces = n.Value != 0;
                    }
                    break;
            }
        }
        if (pieces.Count == 0) throw new InvalidDataException($"{path}: no pieces; not a SentencePiece model.");
        if (modelType != 2) throw new NotSupportedException($"{path}: trainer_spec.model_type {modelType} is not supported (only BPE = 2; Unigram models need their tokenizer.json).");
        if (charsmap) throw new NotSupportedException($"{path}: normalizer_spec.precompiled_charsmap is set; that normalization is not implemented.");
        if (removeExtraWhitespaces) throw new NotSupportedException($"{path}: normalizer_spec.remove_extra_whitespaces = true is not supported.");
        if (!escapeWhitespaces || whitespaceAsSuffix)
            throw new NotSupportedException($"{path}: only escape_whitespaces = true with a whitespace prefix (not treat_whitespace_as_suffix) is supported.");

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < pieces.Count; i++) vocab.TryAdd(pieces[i].Text, i);
        var added = new List<AddedToken>();
        for (int i = 0; i < pieces.Count; i++)
            if (pieces[i].Type is Unknown or Control or UserDefined) added.Add(new AddedToken(pieces[i].Text, i, Special: pieces[i].Type != UserDefined));
        var unk = pieces.FindIndex(p => p.Type == Unknown);
        var settings = new BpeSettings
        {
            ByteFallback = byteFallback, UnkToken = unk >= 0 ? pieces[unk].Text : null, FuseUnk = true,
            SpaceReplacement = "\u2581", StripLeadingSpaces = addDummyPrefix ? 1 : 0,
        };
        var model = new BpeModel(vocab, Merges(pieces, vocab), PreTokenizerPipeline.None, settings, path);
        var steps = new List<Func<string, string>>();
        if (addDummyPrefix) steps.Add(TextNormalizer.Prepend("\u2581"));
        steps.Add(TextNormalizer.ReplaceLiteral(" ", "\u2581"));
        return (model, new TextNormalizer(steps), added);
    }

    private static Piece ReadPiece(ReadOnlyMemory<byte> message, string path)
    {
        string text = "";
        float score = 0;
        int type = Normal;
        foreach (var f in ProtoFields.Read(message, path))
        {
            if (f.Number == 1) text = Encoding.UTF8.GetString(f.Bytes.Span);
            else if (f.Number == 2) score = BitConverter.Int32BitsToSingle((int)f.Value);
            else if (f.Number == 3) type = (int)f.Value;
        }
        return new Piece(text, score, type);
    }

    /// <summary>Every (left, right) split of a normal piece into two pieces; best piece score first, then by ids.</summary>
    private static List<(string, string)> Merges(List<Piece> pieces, Dictionary<string, int> vocab)
    {
        var merges = new List<(string A, string B, float Score, int Order)>();
        foreach (var p in pieces.Where(p => p.Type == Normal))
        {
            var local = new List<(string A, string B)>();
            var cut = StringInfoCuts(p.Text);
            foreach (var k in cut)
            {
                string a = p.Text[..k], b = p.Text[k..];
                if (vocab.ContainsKey(a) && vocab.ContainsKey(b)) local.Add((a, b));
            }
            foreach (var (a, b) in local.OrderBy(x => vocab[x.A]).ThenBy(x => vocab[x.B]))
                merges.Add((a, b, p.Score, merges.Count));
        }
        return merges.OrderByDescending(m => m.Score).ThenBy(m => m.Order).Select(m => (m.A, m.B)).ToList();
    }

    /// <summary>Split points between code points (never inside a surrogate pair).</summary>
    private static IEnumerable<int> StringInfoCuts(string s)
    {
        for (int i = 1; i < s.Length; i++)
            if (!char.IsLowSurrogate(s[i])) yield return i;
    }
}
