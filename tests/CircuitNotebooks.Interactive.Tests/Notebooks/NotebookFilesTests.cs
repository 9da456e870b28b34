using System.Text.Json.Nodes;
using CircuitNotebooks.Cli.Notebooks;
using Xunit;

namespace CircuitNotebooks.Interactive.Tests.Notebooks;

public class NotebookFilesTests
{
    /// <summary>
    /// The committed notebooks are exactly what <see cref="NotebookSources"/> generates. After editing a source run
    /// <c>CN_UPDATE_NOTEBOOKS=1 dotnet test tests/CircuitNotebooks.Interactive.Tests --filter CommittedNotebooksMatchTheirSources</c>.
    /// </summary>
    [Fact]
    public void CommittedNotebooksMatchTheirSources()
    {
        var dir = Path.Combine(Repo.Root, "notebooks");
        bool update = Environment.GetEnvironmentVariable("CN_UPDATE_NOTEBOOKS") == "1";
        var stale = new List<string>();
        foreach (var (name, build) in NotebookSources.All)
        {
            var path = Path.Combine(dir, name + ".ipynb");
            var expected = build().ToJson();
            if (update) AtomicFileWrite(path, expected);
            else if (!File.Exists(path) || File.ReadAllText(path) != expected) stale.Add(name);
        }
        Assert.True(stale.Count == 0,
            $"notebooks/ out of date with their sources ({string.Join(", ", stale)}): run CN_UPDATE_NOTEBOOKS=1 dotnet test " +
            "tests/CircuitNotebooks.Interactive.Tests --filter CommittedNotebooksMatchTheirSources");
    }

    [Fact]
    public void EveryNotebookHasPolyglotMetadataOneParametersCellAndTheSharedFirstCell()
    {
        foreach (var (name, _) in NotebookSources.All)
        {
            var text = File.ReadAllText(Path.Combine(Repo.Root, "notebooks", name + ".ipynb"));
            var doc = JsonNode.Parse(text)!.AsObject();
            Assert.Equal(".net-csharp", doc["metadata"]!["kernelspec"]!["name"]!.GetValue<string>());
            Assert.Equal("csharp", doc["metadata"]!["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]!.GetValue<string>());
            var code = doc["cells"]!.AsArray().Select(c => c!.AsObject()).Where(c => c["cell_type"]!.GetValue<string>() == "code").ToList();
            Assert.All(code, c => Assert.Equal("csharp", c["metadata"]!["polyglot_notebook"]!["kernelName"]!.GetValue<string>()));
            Assert.All(code, c => Assert.Empty(c["outputs"]!.AsArray())); // committed without outputs
            var tagged = code.Where(c => c["metadata"]!["tags"] is JsonArray tags && tags.Any(t => t!.GetValue<string>() == NotebookParameters.Tag)).ToList();
            Assert.Single(tagged);
            var declared = NotebookParameters.Declared(Source(tagged[0]));
            Assert.Contains("modelDir", declared.Keys);
            Assert.Contains("device", declared.Keys);
            // What VS Code users run first, and what the tests run: the package from the NuGet.Config beside the notebooks.
            Assert.StartsWith(NotebookSources.Setup, Source(code[0]));
            // Any clone location: no absolute paths.
            Assert.DoesNotMatch(@"""(/|[A-Za-z]:\\)(home|root|work|Users|tmp)", text);
        }
    }

    [Fact]
    public void NotebooksNuGetConfigNamesThePackFolderByARelativePath()
    {
        var config = System.Xml.Linq.XDocument.Load(Path.Combine(Repo.Root, "notebooks", "NuGet.Config"));
        var sources = config.Descendants("add").Select(a => a.Attribute("value")!.Value).ToList();
        Assert.Contains("../artifacts/packages", sources);
        Assert.All(sources, s => Assert.False(Path.IsPathRooted(s), s));
    }

    private static string Source(JsonObject cell) => cell["source"] switch
    {
        JsonArray lines => string.Concat(lines.Select(l => l!.GetValue<string>())),
        var single => single!.GetValue<string>(),
    };

    private static void AtomicFileWrite(string path, string text) => CircuitNotebooks.Models.AtomicFile.WriteAllText(path, text);
}

internal static class Repo
{
    /// <summary>The repository root: the first ancestor of the test binaries holding CircuitNotebooks.sln.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CircuitNotebooks.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no CircuitNotebooks.sln above {AppContext.BaseDirectory}");
    }

    public static string DefaultModel => Path.Combine(Root, "data", "models", "tiny-neox");

    /// <summary>The previous default model, which tracks entities (notebook 07's default).</summary>
    public static string EntityModel => Path.Combine(Root, "data", "models", "tiny-neox-entity");
}
