using CircuitNotebooks.Tasks;
using Xunit;

namespace CircuitNotebooks.Tests.Tasks;

public sealed class DatasetIoTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cn-tasks-io-" + Guid.NewGuid().ToString("N"));

    public DatasetIoTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly TaskExample[] Nasty =
    [
        new("a, b, c =", "say \"hi\", ok", "1", "2", new Dictionary<string, string> { ["op"] = "+", ["q"] = "\"x\",y" }),
        new("line1\nline2\r\nline3", "\"\"", "\"", null),
        new(" leading and trailing ", "tab\there", "é", "", new Dictionary<string, string> { ["uni"] = "数学 🧮 naïve" }),
        new("🧮 × ÷ − “smart” ‘quotes’", "\r", ",", "\n", null),
        new("", "ends with quote\"", "x", null, new Dictionary<string, string> { ["empty"] = "", ["nl"] = "a\nb" }),
    ];

    [Fact]
    public void Csv_RoundTripsNastyStrings()
    {
        var path = Path.Combine(_dir, "nasty.csv");
        TaskCsv.Write(path, Nasty);
        Assert.Equal(Nasty, TaskCsv.Read(path));
        Assert.Single(Directory.GetFiles(_dir)); // no temp file left behind
    }

    [Fact]
    public void Csv_RoundTripsGeneratedData_AndOverwritesAtomically()
    {
        var path = Path.Combine(_dir, "d.csv");
        File.WriteAllText(path, "old content");
        var data = TaskRegistry.Default.Get("entity-tracking").Generate(50, 1, PromptTemplate.Paper)
            .Concat(TaskRegistry.Default.Get("lcm").Generate(50, 1, PromptTemplate.Paper)).ToArray();
        TaskCsv.Write(path, data);
        Assert.Equal(data, TaskCsv.Read(path));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Csv_ParsesHandWrittenRfc4180()
    {
        // Written by hand, independent of the writer: quoted commas, doubled quotes, a CRLF inside quotes, LF endings,
        // paper layout (three columns only), column order differing from ours, an unknown column kept as metadata.
        var text = "label,clean,corrupted,source\n" +
                   "26,\"72 - 46 =\",\"72 + 46 =\",paper\n" +
                   "\"a\"\"b\",\"x, y\r\nz\",\"\",\"\"\n";
        var got = TaskCsv.Parse(text, "hand.csv");
        Assert.Equal(2, got.Count);
        Assert.Equal(new TaskExample("72 - 46 =", "72 + 46 =", "26", null, new Dictionary<string, string> { ["source"] = "paper" }), got[0]);
        Assert.Equal("x, y\r\nz", got[1].Clean);
        Assert.Equal("", got[1].Corrupted);
        Assert.Equal("a\"b", got[1].Label);
    }

    [Fact]
    public void Csv_ThreeColumnWriteMatchesPaperLayout()
    {
        var text = TaskCsv.ToCsv([new TaskExample("72 - 46 =", "72 + 46 =", "26", "118")], includeExtras: false);
        Assert.Equal("clean,corrupted,label\r\n72 - 46 =,72 + 46 =,26\r\n", text);
    }

    [Theory]
    [InlineData("clean,corrupted\nA,B\n", null, "label", "missing required column")]
    [InlineData("clean,corrupted,label\nA,B,C\nA,B\n", 3, null, "expected 3 fields")]
    [InlineData("clean,corrupted,label\nA,B,C\n\"open,B,C\n", 3, null, "unterminated")]
    [InlineData("clean,corrupted,label\nA,B\"x,C\n", 2, "4", "quote inside an unquoted field")]
    [InlineData("clean,corrupted,label,metadata\nA,B,C,\"{not json\"\n", 2, "metadata", "invalid JSON")]
    [InlineData("clean,corrupted,label\nA,B,\n", 2, "label", "label is empty")]
    public void Csv_BadInputNamesFileLineAndColumn(string text, int? line, string? column, string problem)
    {
        var path = Path.Combine(_dir, "bad.csv");
        File.WriteAllText(path, text);
        var ex = Assert.Throws<DatasetFormatException>(() => TaskCsv.Read(path));
        Assert.Equal(path, ex.File);
        if (line is not null) Assert.Equal(line, ex.Line);
        if (column is not null) Assert.Equal(column, ex.Column);
        Assert.Contains(problem, ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void Jsonl_RoundTripsNastyStrings()
    {
        var path = Path.Combine(_dir, "nasty.jsonl");
        TaskJsonl.Write(path, Nasty);
        Assert.Equal(Nasty.Length, File.ReadAllLines(path).Length); // one object per line
        Assert.Equal(Nasty, TaskJsonl.Read(path));
    }

    [Theory]
    [InlineData("{\"clean\":\"a\",\"corrupted\":\"b\",\"label\":\"c\"}\n\n{\"clean\":\"a\",\"label\":\"c\"}\n", 3, "corrupted", "missing required field")]
    [InlineData("{\"clean\":\"a\",\"corrupted\":\"b\",\"label\":\"c\"}\n{oops\n", 2, null, "invalid JSON")]
    [InlineData("{\"clean\":\"a\",\"corrupted\":\"b\",\"label\":3}\n", 1, "label", "must be a string")]
    [InlineData("{\"clean\":\"a\",\"corrupted\":\"b\",\"label\":\"c\",\"metadata\":{\"k\":[1]}}\n", 1, "metadata", "must be a string")]
    public void Jsonl_BadInputNamesFileAndLine(string text, int line, string? column, string problem)
    {
        var path = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(path, text);
        var ex = Assert.Throws<DatasetFormatException>(() => TaskJsonl.Read(path));
        Assert.Equal(line, ex.Line);
        if (column is not null) Assert.Equal(column, ex.Column);
        Assert.Contains(problem, ex.Message);
        Assert.Contains(path, ex.Message);
    }
}
