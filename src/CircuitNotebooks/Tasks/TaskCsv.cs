using CircuitNotebooks.Models;
using System.Text;
using System.Text.Json;

namespace CircuitNotebooks.Tasks;

/// <summary>
/// CSV in the paper's release layout: header clean,corrupted,label, optionally followed by corrupted_label and
/// metadata (a JSON object). RFC 4180: fields holding a comma, quote, CR or LF are quoted, quotes doubled; records end
/// with CRLF (LF accepted on read). An unquoted empty corrupted_label cell reads as null, a quoted "" as the empty
/// string. Columns are matched by header name; unknown columns are kept as metadata entries under their name.
/// </summary>
public static class TaskCsv
{
    public static readonly string[] RequiredColumns = ["clean", "corrupted", "label"];
    public const string CorruptedLabelColumn = "corrupted_label";
    public const string MetadataColumn = "metadata";

    /// <summary>Writes atomically. <paramref name="includeExtras"/>: add the corrupted_label and metadata columns.</summary>
    public static void Write(string path, IEnumerable<TaskExample> examples, bool includeExtras = true)
    {
        ArgumentNullException.ThrowIfNull(examples);
        AtomicFile.WriteAllText(path, ToCsv(examples, includeExtras));
    }

    public static string ToCsv(IEnumerable<TaskExample> examples, bool includeExtras = true)
    {
        var sb = new StringBuilder();
        var header = includeExtras ? [.. RequiredColumns, CorruptedLabelColumn, MetadataColumn] : RequiredColumns;
        sb.Append(string.Join(",", header)).Append("\r\n");
        foreach (var ex in examples)
        {
            sb.Append(Field(ex.Clean)).Append(',').Append(Field(ex.Corrupted)).Append(',').Append(Field(ex.Label));
            if (includeExtras)
            {
                sb.Append(',');
                if (ex.CorruptedLabel is not null) sb.Append(Field(ex.CorruptedLabel, quoteEmpty: true));
                sb.Append(',');
                if (ex.Metadata.Count > 0) sb.Append(Field(MetadataJson.ToJson(ex.Metadata)));
            }
            sb.Append("\r\n");
        }
        return sb.ToString();
    }

    private static string Field(string s, bool quoteEmpty = false)
    {
        bool quote = (quoteEmpty && s.Length == 0) || s.AsSpan().IndexOfAny(",\"\r\n") >= 0;
        return quote ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
    }

    public static IReadOnlyList<TaskExample> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Dataset file not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses CSV text; <paramref name="fileName"/> is used in error messages.</summary>
    public static IReadOnlyList<TaskExample> Parse(string text, string fileName = "<csv>")
    {
        var records = CsvRecords.Parse(text, fileName);
        if (records.Count == 0)
            throw new DatasetFormatException(fileName, 1, null, $"empty file; expected a header {string.Join(",", RequiredColumns)}");
        var header = records[0];
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < header.Fields.Count; i++)
        {
            var name = header.Fields[i].Value.Trim();
            if (i == 0) name = name.TrimStart('\uFEFF');
            if (!index.TryAdd(name, i))
                throw new DatasetFormatException(fileName, header.Line, name, "duplicate column in header");
        }
        foreach (var req in RequiredColumns)
            if (!index.ContainsKey(req))
                throw new DatasetFormatException(fileName, header.Line, req,
                    $"missing required column \"{req}\" (header: {string.Join(",", header.Fields.Select(f => f.Value))})");
        int? cl = index.TryGetValue(CorruptedLabelColumn, out var c1) ? c1 : null;
        int? md = index.TryGetValue(MetadataColumn, out var c2) ? c2 : null;
        var known = new HashSet<string>([.. RequiredColumns, CorruptedLabelColumn, MetadataColumn]);
        var extra = index.Where(kv => !known.Contains(kv.Key)).ToArray();

        var result = new List<TaskExample>(records.Count - 1);
        foreach (var rec in records.Skip(1))
        {
            if (rec.Fields.Count != header.Fields.Count)
                throw new DatasetFormatException(fileName, rec.Line, null,
                    $"expected {header.Fields.Count} fields (as in the header), found {rec.Fields.Count}");
            string Get(string col) => rec.Fields[index[col]].Value;
            var label = Get("label");
            if (label.Length == 0) throw new DatasetFormatException(fileName, rec.Line, "label", "label is empty");
            string? corruptedLabel = null;
            if (cl is { } ci && (rec.Fields[ci].Quoted || rec.Fields[ci].Value.Length > 0))
                corruptedLabel = rec.Fields[ci].Value;
            var meta = new Dictionary<string, string>(StringComparer.Ordinal);
            if (md is { } mi && rec.Fields[mi].Value.Trim().Length > 0)
            {
                Exception Err(string problem, Exception? inner = null) =>
                    new DatasetFormatException(fileName, rec.Line, MetadataColumn, problem, inner);
                try
                {
                    using var doc = JsonDocument.Parse(rec.Fields[mi].Value);
                    meta = MetadataJson.Read(doc.RootElement, p => Err(p));
                }
                catch (JsonException e) { throw Err($"invalid JSON: {e.Message}", e); }
            }
            foreach (var (name, i) in extra) meta[name] = rec.Fields[i].Value;
            result.Add(new TaskExample(Get("clean"), Get("corrupted"), label, corruptedLabel, meta));
        }
        return result;
    }
}

/// <summary>RFC 4180 tokenizer: records of fields, remembering whether each field was quoted and where records start.</summary>
internal static class CsvRecords
{
    public readonly record struct CsvField(string Value, bool Quoted);
    public sealed record CsvRecord(int Line, IReadOnlyList<CsvField> Fields);

    public static List<CsvRecord> Parse(string text, string fileName)
    {
        var records = new List<CsvRecord>();
        var fields = new List<CsvField>();
        var sb = new StringBuilder();
        int line = 1, recordLine = 1, col = 0, i = 0;
        bool quoted = false, anyInRecord = false;

        void EndField() { fields.Add(new CsvField(sb.ToString(), quoted)); sb.Clear(); quoted = false; }
        void EndRecord()
        {
            EndField();
            // A line with nothing on it (e.g. trailing newline at end of file) is not a record.
            if (anyInRecord || fields.Count > 1 || fields[0].Quoted || fields[0].Value.Length > 0)
                records.Add(new CsvRecord(recordLine, fields.ToArray()));
            fields.Clear();
            anyInRecord = false;
        }

        while (i < text.Length)
        {
            char ch = text[i];
            if (sb.Length == 0 && !quoted && ch == '"' && AtFieldStart(text, i))
            {
                // Quoted field: read to the closing quote, "" is a literal quote, newlines are content.
                quoted = true;
                anyInRecord = true;
                int startLine = line;
                i++; col++;
                while (true)
                {
                    if (i >= text.Length)
                        throw new DatasetFormatException(fileName, startLine, null, "unterminated quoted field (missing closing quote)");
                    char q = text[i];
                    if (q == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"') { sb.Append('"'); i += 2; col += 2; continue; }
                        i++; col++;
                        break;
                    }
                    if (q == '\n') { line++; col = 0; }
                    sb.Append(q);
                    i++; col++;
                }
                if (i < text.Length && text[i] is not (',' or '\r' or '\n'))
                    throw new DatasetFormatException(fileName, line, (col + 1).ToString(),
                        $"unexpected character '{text[i]}' after closing quote (expected ',' or end of line)");
                continue;
            }
            switch (ch)
            {
                case ',':
                    EndField(); anyInRecord = true; i++; col++;
                    break;
                case '\r' or '\n':
                    EndRecord();
                    i += ch == '\r' && i + 1 < text.Length && text[i + 1] == '\n' ? 2 : 1;
                    line++; col = 0; recordLine = line;
                    break;
                case '"':
                    throw new DatasetFormatException(fileName, line, (col + 1).ToString(),
                        "quote inside an unquoted field (quote the whole field and double inner quotes)");
                default:
                    sb.Append(ch); i++; col++;
                    break;
            }
        }
        if (sb.Length > 0 || quoted || fields.Count > 0) EndRecord();
        return records;
    }

    private static bool AtFieldStart(string text, int i) => i == 0 || text[i - 1] is ',' or '\n' or '\r';
}
