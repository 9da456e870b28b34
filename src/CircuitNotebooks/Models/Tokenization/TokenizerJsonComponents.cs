using System.Text;
using System.Text.Json.Nodes;

namespace CircuitNotebooks.Models;

/// <summary>
/// Reads the normalizer, pre_tokenizer and decoder objects of a tokenizer.json. Anything not implemented is refused
/// with the file and the JSON path named, never approximated.
/// </summary>
internal static class TokenizerJsonComponents
{
    public const string Supported =
        "normalizers NFC/NFD/NFKC/NFKD/Lowercase/Prepend/Replace/Strip/Sequence; pre-tokenizers ByteLevel/Split/Metaspace/Sequence " +
        "(BPE) or Whitespace/WhitespaceSplit (WordLevel)";

    private static JsonFields Fields(JsonNode? node, string src, string path) =>
        node is JsonObject o ? new JsonFields(o, $"{src} ({path})") : throw new InvalidDataException($"{src}: '{path}' must be an object.");

    private static NotSupportedException Unsupported(string src, string path, string type) =>
        new($"{src}: {path} type '{type}' is not supported (supported: {Supported}).");

    public static TextNormalizer Normalizer(JsonNode? node, string src)
    {
        if (node is null) return TextNormalizer.Identity;
        var steps = new List<Func<string, string>>();
        AddNormalizer(node, src, "normalizer", steps);
        return new TextNormalizer(steps);
    }

    private static void AddNormalizer(JsonNode node, string src, string path, List<Func<string, string>> steps)
    {
        var f = Fields(node, src, path);
        var type = f.String("type");
        switch (type)
        {
            case "Sequence":
                if (f.Object["normalizers"] is not JsonArray arr) throw new InvalidDataException($"{src}: '{path}.normalizers' must be an array.");
                for (int i = 0; i < arr.Count; i++) AddNormalizer(arr[i]!, src, $"{path}.normalizers[{i}]", steps);
                break;
            case "NFC": steps.Add(TextNormalizer.Unicode(NormalizationForm.FormC)); break;
            case "NFD": steps.Add(TextNormalizer.Unicode(NormalizationForm.FormD)); break;
            case "NFKC": steps.Add(TextNormalizer.Unicode(NormalizationForm.FormKC)); break;
            case "NFKD": steps.Add(TextNormalizer.Unicode(NormalizationForm.FormKD)); break;
            case "Lowercase": steps.Add(TextNormalizer.Lowercase()); break;
            case "Prepend": steps.Add(TextNormalizer.Prepend(f.String("prepend"))); break;
            case "Strip": steps.Add(TextNormalizer.Strip(f.Bool("strip_left", true), f.Bool("strip_right", true))); break;
            case "Replace":
                var (literal, regex) = Pattern(f, src, path);
                var content = f.String("content");
                steps.Add(literal is not null ? TextNormalizer.ReplaceLiteral(literal, content) : TextNormalizer.ReplaceRegex(regex!, content));
                break;
            default: throw Unsupported(src, path, type);
        }
    }

    /// <summary>HF patterns are {"String": literal} or {"Regex": pattern}.</summary>
    private static (string? Literal, string? Regex) Pattern(JsonFields f, string src, string path)
    {
        var p = Fields(f.Object["pattern"], src, path + ".pattern");
        if (p.OptString("String") is { } s) return (s, null);
        if (p.OptString("Regex") is { } r) return (null, r);
        throw new InvalidDataException($"{src}: '{path}.pattern' must be {{\"String\": ...}} or {{\"Regex\": ...}}.");
    }

    /// <summary>BPE pre-tokenizer steps; <paramref name="byteLevel"/> is set when a ByteLevel step is present.</summary>
    public static PreTokenizerPipeline PreTokenizer(JsonNode? node, string src, out bool byteLevel, out MetaspaceStep? metaspace)
    {
        byteLevel = false;
        metaspace = null;
        if (node is null) return PreTokenizerPipeline.None;
        var steps = new List<IPreTokenizerStep>();
        AddPreTokenizer(node, src, "pre_tokenizer", steps, ref byteLevel, ref metaspace);
        return new PreTokenizerPipeline(steps);
    }

    private static void AddPreTokenizer(JsonNode node, string src, string path, List<IPreTokenizerStep> steps, ref bool byteLevel, ref MetaspaceStep? metaspace)
    {
        var f = Fields(node, src, path);
        var type = f.String("type");
        switch (type)
        {
            case "Sequence":
                if (f.Object["pretokenizers"] is not JsonArray arr) throw new InvalidDataException($"{src}: '{path}.pretokenizers' must be an array.");
                for (int i = 0; i < arr.Count; i++) AddPreTokenizer(arr[i]!, src, $"{path}.pretokenizers[{i}]", steps, ref byteLevel, ref metaspace);
                break;
            case "ByteLevel":
                byteLevel = true;
                steps.Add(new ByteLevelStep(f.Bool("add_prefix_space", true), f.Bool("use_regex", true)));
                break;
            case "Split":
                var (literal, regex) = Pattern(f, src, path);
                var behavior = Enum.TryParse<DelimiterBehavior>(f.String("behavior"), out var b) ? b
                    : throw new NotSupportedException($"{src}: '{path}.behavior' = '{f.String("behavior")}' is not supported (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous).");
                var re = new CodePointRegex(literal is not null ? System.Text.RegularExpressions.Regex.Escape(literal) : regex!);
                steps.Add(new SplitStep(re.Matches, behavior, f.Bool("invert", false)));
                break;
            case "Metaspace":
                var scheme = f.OptString("prepend_scheme") is { } s
                    ? Enum.TryParse<MetaspacePrepend>(s, ignoreCase: true, out var ps) ? ps
                        : throw new NotSupportedException($"{src}: '{path}.prepend_scheme' = '{s}' is not supported (always, first, never).")
                    : f.Bool("add_prefix_space", true) ? MetaspacePrepend.Always : MetaspacePrepend.Never;
                metaspace = new MetaspaceStep(f.String("replacement", "\u2581"), scheme, f.Bool("split", true));
                steps.Add(metaspace);
                break;
            default: throw Unsupported(src, path, type);
        }
    }

    /// <summary>
    /// What a SentencePiece-style decoder does to text: which string stands for a space and how many leading spaces the
    /// dummy prefix left (HF: Replace "▁"→" " + Strip(start=1), or a Metaspace decoder that prepends).
    /// </summary>
    public static (string? SpaceReplacement, int StripLeading) Decoder(JsonNode? node, string src)
    {
        string? replacement = null;
        int strip = 0;
        void Walk(JsonNode? n, string path)
        {
            if (n is null) return;
            var f = Fields(n, src, path);
            switch (f.OptString("type"))
            {
                case "Sequence":
                    if (f.Object["decoders"] is JsonArray arr) for (int i = 0; i < arr.Count; i++) Walk(arr[i], $"{path}.decoders[{i}]");
                    break;
                case "Replace" when Pattern(f, src, path).Literal is { } lit && f.String("content") == " ":
                    replacement = lit;
                    break;
                case "Strip" when f.String("content", " ") == " ":
                    strip = f.OptInt("start") ?? 0;
                    break;
                case "Metaspace":
                    replacement = f.String("replacement", "\u2581");
                    var scheme = f.OptString("prepend_scheme") ?? (f.Bool("add_prefix_space", true) ? "always" : "never");
                    strip = scheme == "never" ? 0 : 1;
                    break;
            }
        }
        Walk(node, "decoder");
        return (replacement, strip);
    }
}
