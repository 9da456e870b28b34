using System.Text.Json;
using CircuitNotebooks.Models;
using CircuitNotebooks.Tasks;
using CircuitNotebooks.Tests.Reference;
using Microsoft.ML.Tokenizers;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Models;

/// <summary>
/// Model folders of each family with each kind of tokenizer: FromPretrained picks the tokenizer up, ToTokens/ToStrTokens
/// give the reference ids, and the paper-template task generators' single-token checks agree with the reference.
/// </summary>
public sealed class PretrainedTokenizerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pretrained-tok-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Prompt = "When Mary and John went to the store, John gave a drink to";
    private static readonly string[] NumericTasks = ["addsub100", "arith-seq", "lcm", "function"];
    private static readonly string[] PaperPrefixes = [.. new[] { TaskFamily.Arithmetic, TaskFamily.Sequence, TaskFamily.Lcm, TaskFamily.Function }
        .Select(f => PromptTemplate.Paper.PrefixFor(f)!)];

    /// <summary>A tiny random model of the family's architecture saved next to copies of the tokenizer files.</summary>
    private string ModelFolder(string name, ModelConfig cfg, string tokenizerDir, int vocab)
    {
        var dir = Path.Combine(_dir, name);
        cfg = cfg with { DVocab = vocab };
        using (var scope = NewDisposeScope())
        using (var model = new HookedTransformer(cfg))
        {
            var w = NaiveWeights.Random(cfg, seed: 1, scale: 0.2).ToFloatTensors();
            w["unembed.b_U"] = zeros(cfg.DVocab);
            model.LoadStateDict(w);
            model.SavePretrained(dir);
        }
        foreach (var f in Directory.GetFiles(tokenizerDir).Where(f => !f.EndsWith("golden.json")))
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    public static TheoryData<string, string, string> Families => new()
    {
        { "gpt2", "gpt2", "Gpt2" }, { "pythia", "pythia", "NeoX" }, { "llama2", "llama2", "Llama" }, { "llama2-spm", "llama2", "Llama" },
        { "mistral", "mistral", "Mistral" }, { "llama3", "llama3", "LlamaGqa" }, { "qwen2", "qwen2", "Qwen2" },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void FromPretrainedTokenizesLikeTheReferenceAndChecksTaskLabels(string fixture, string goldenFamily, string arch)
    {
        var fixtureDir = TokenizerFixtureTests.FixtureDir(fixture);
        var vocab = HfTokenizer.Load(fixtureDir).VocabSize;
        using var model = HookedTransformer.FromPretrained(ModelFolder(fixture, TinyConfigs.ByName(arch) with { NCtx = 128, SlidingWindow = arch == "Mistral" ? 128 : null }, fixtureDir, vocab));
        var tok = Assert.IsType<HfTokenizer>(model.Tokenizer);
        var golden = TokenizerFixtureTests.Golden(goldenFamily).Single(c => c.Text == Prompt).Ids;
        int[] expected = tok.BosId is int bos ? [bos, .. golden] : golden;
        using var tokens = model.ToTokens(Prompt);
        Assert.Equal(expected.Select(i => (long)i), tokens.data<long>().ToArray());
        // Surface strings concatenate back to the text; SentencePiece styles show the dummy prefix as a space.
        bool dummyPrefix = goldenFamily is "llama2" or "mistral";
        Assert.Equal(dummyPrefix ? " " + Prompt : Prompt, string.Concat(model.ToStrTokens(Prompt, prependBos: false)));
        using (no_grad())
        using (var logits = model.Forward(tokens))
            Assert.Equal(new long[] { 1, expected.Length, vocab }, logits.shape);

        var labels = GoldenLabels(goldenFamily);
        int checkedLabels = 0;
        foreach (var task in NumericTasks)
            foreach (var ex in TaskRegistry.Default.Get(task).Generate(40, seed: 7, PromptTemplate.Paper))
            {
                Assert.Contains(PaperPrefixes, p => ex.Clean.StartsWith(p + PromptTemplate.Paper.PrefixSeparator, StringComparison.Ordinal));
                if (!labels.TryGetValue(" " + ex.Label, out var ids)) continue;
                checkedLabels++;
                bool single = !TaskValidator.Check(ex, tok).Contains(ValidationReason.LabelNotSingleToken);
                Assert.True(single == (ids.Length == 1), $"{fixture} {task}: label \"{ex.Label}\" single={single}, reference ids [{string.Join(",", ids)}]");
            }
        Assert.True(checkedLabels >= 100, $"only {checkedLabels} labels had reference ids");
    }

    private static Dictionary<string, int[]> GoldenLabels(string family)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TokenizerFixtureTests.FixtureDir(family), "golden.json")));
        return doc.RootElement.GetProperty("labels").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(i => i.GetInt32()).ToArray());
    }

    [Fact]
    public void RealGpt2VocabularyGivesTiktokenIdsForPaperPromptsAndSingleTokenAnswers()
    {
        var tokDir = Directory.CreateDirectory(Path.Combine(_dir, "gpt2-tok")).FullName;
        Gpt2RealVocabularyTests.WriteVocabAndMerges(tokDir);
        var cfg = TinyConfigs.Gpt2() with { NCtx = 256, DModel = 8, NHeads = 2, DMlp = 16 };
        using var model = HookedTransformer.FromPretrained(ModelFolder("gpt2-real", cfg, tokDir, 50257));
        var oracle = TiktokenTokenizer.CreateForModel("gpt2");
        var tok = model.Tokenizer!;
        Assert.Equal(50256, tok.BosId);
        int single = 0, total = 0;
        foreach (var task in NumericTasks.Append("entity-tracking").Append("sequence"))
            foreach (var ex in TaskRegistry.Default.Get(task).Generate(60, seed: 3, PromptTemplate.Paper))
            {
                total++;
                using var t = model.ToTokens(ex.Clean);
                Assert.Equal(oracle.EncodeToIds(ex.Clean).Prepend(50256).Select(i => (long)i), t.data<long>().ToArray());
                var reasons = TaskValidator.Check(ex, tok);
                var labelIds = oracle.EncodeToIds(" " + ex.Label);
                Assert.Equal(labelIds.Count != 1, reasons.Contains(ValidationReason.LabelNotSingleToken));
                Assert.Equal(oracle.CountTokens(ex.Clean) != oracle.CountTokens(ex.Corrupted), reasons.Contains(ValidationReason.TokenCountMismatch));
                if (labelIds.Count == 1) { single++; Assert.Equal(labelIds[0], TaskValidator.LabelTokenId(ex.Clean, ex.Label, tok)); }
            }
        Assert.True(single > total / 4, $"only {single}/{total} single-token answers");
        Assert.Equal(Prompt, string.Concat(model.ToStrTokens(Prompt, prependBos: false)));
    }
}
