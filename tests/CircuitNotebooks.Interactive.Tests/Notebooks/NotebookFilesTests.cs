using CircuitNotebooks.Interactive.Runner;
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
            var expected = build().Build().ToJson();
            if (update) AtomicFileWrite(path, expected);
            else if (!File.Exists(path) || File.ReadAllText(path) != expected) stale.Add(name);
        }
        Assert.True(stale.Count == 0,
            $"notebooks/ out of date with their sources ({string.Join(", ", stale)}): run CN_UPDATE_NOTEBOOKS=1 dotnet test " +
            "tests/CircuitNotebooks.Interactive.Tests --filter CommittedNotebooksMatchTheirSources");
    }

    [Fact]
    public void EveryNotebookHasPolyglotMetadataAndOneParametersCell()
    {
        foreach (var (name, _) in NotebookSources.All)
        {
            var doc = NotebookDocument.Load(Path.Combine(Repo.Root, "notebooks", name + ".ipynb"));
            Assert.Equal(".net-csharp", doc.Metadata["kernelspec"]!["name"]!.GetValue<string>());
            Assert.Equal("csharp", doc.Metadata["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]!.GetValue<string>());
            Assert.All(doc.Cells.Where(c => c.IsCode), c => Assert.Equal("csharp", c.KernelName));
            Assert.Single(doc.Cells, c => c.Tags.Contains(NotebookRunner.ParametersTag));
            Assert.All(doc.Cells.Where(c => c.IsCode), c => Assert.Empty(c.Outputs)); // committed without outputs
            var declared = NotebookRunner.DeclaredNames(doc.Cells.Single(c => c.Tags.Contains(NotebookRunner.ParametersTag)).Source);
            Assert.Contains("modelDir", declared);
            Assert.Contains("device", declared);
        }
    }

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
}
