using System.Diagnostics;
using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace CircuitNotebooks.Interactive.Tests.Notebooks;

/// <summary>
/// The quickstart exactly as a user meets it outside VS Code: the real kernel's own headless runner (dotnet-repl,
/// pinned in .config/dotnet-tools.json), started in the notebook's folder of a clone-shaped directory (notebooks/
/// with the committed NuGet.Config, artifacts/packages, data/), no parameter overrides.
/// </summary>
public class DotnetReplTests(ITestOutputHelper log)
{
    [Fact]
    public async Task QuickstartRunsUnmodifiedUnderDotnetRepl()
    {
        var clone = KernelPackages.NewCloneShapedDirectory("dotnet-repl");
        var notebooks = Path.Combine(clone, "notebooks");
        File.Copy(Path.Combine(Repo.Root, "notebooks", "01-quickstart.ipynb"), Path.Combine(notebooks, "01-quickstart.ipynb"));
        var executed = Path.Combine(clone, "executed.ipynb");

        var psi = new ProcessStartInfo("dotnet", ["dotnet-repl", "--run", "01-quickstart.ipynb", "--exit-after-run", "--output-path", executed])
        {
            WorkingDirectory = notebooks, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(8))) process.Kill(entireProcessTree: true);
        log.WriteLine($"dotnet-repl: exit {process.ExitCode} after {clock.Elapsed.TotalSeconds:F1} s");
        var errors = await stderr;
        Assert.True(process.ExitCode == 0,
            $"dotnet-repl exited {process.ExitCode} (2 = a cell failed; 'tool not found' = run `dotnet tool restore`, see tests/install-prerequisites.sh)\n{errors}\n{(await stdout)[^Math.Min(4000, (await stdout).Length)..]}");

        var cells = JsonNode.Parse(File.ReadAllText(executed))!["cells"]!.AsArray().Select(c => c!.AsObject())
            .Where(c => c["cell_type"]!.GetValue<string>() == "code").ToList();
        var outputs = cells.SelectMany(c => c["outputs"]!.AsArray().Select(o => o!.AsObject())).ToList();
        Assert.DoesNotContain(outputs, o => o["output_type"]!.GetValue<string>() == "error");
        string Html(JsonObject o) => o["data"]?["text/html"] is JsonNode h ? (h is JsonArray a ? string.Concat(a.Select(x => x!.GetValue<string>())) : h.GetValue<string>()) : "";
        // Our formatters, not the kernel's tree view: the model summary, a table, charts with plotly.js once.
        Assert.Contains(outputs, o => Html(o).Contains("<caption>HookedTransformer</caption>", StringComparison.Ordinal));
        Assert.Contains(outputs, o => Html(o).Contains("<th>rank</th><th>token</th><th>probability</th>", StringComparison.Ordinal));
        Assert.True(outputs.Count(o => Html(o).Contains("class=\"cn-chart\"", StringComparison.Ordinal)) >= 5);
        Assert.Equal(1, outputs.Count(o => Html(o).Contains(CircuitNotebooks.Interactive.Html.PlotlyJs.EmbedMarker + "=", StringComparison.Ordinal)));
        // The export cell wrote its CSV relative to the notebook's folder.
        Assert.True(File.Exists(Path.Combine(notebooks, "out", "01-quickstart", "cache_shapes.csv")));
    }
}
