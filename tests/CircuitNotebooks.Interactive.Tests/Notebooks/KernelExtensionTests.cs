using System.Diagnostics;
using System.Text.Json.Nodes;
using CircuitNotebooks.Cli.Notebooks;
using Microsoft.DotNet.Interactive.Documents;
using Xunit;
using Xunit.Abstractions;

namespace CircuitNotebooks.Interactive.Tests.Notebooks;

/// <summary>The package's extension.dib in the real kernel: its magics work, and a failing extension script fails the run.</summary>
public class KernelExtensionTests(ITestOutputHelper log)
{
    [Fact]
    public async Task MagicCommandsLoadAModelIntoAVariableAndShowVersions()
    {
        var dir = TestPaths.NewDirectory("magics");
        var nb = new NotebookBuilder()
            .Code(NotebookSources.Setup)
            .Code("#!circuitnotebooks --plotly every")
            .Code($"#!circuit-model \"{Repo.DefaultModel}\" --name tiny")
            .Code("Console.WriteLine($\"layers: {tiny.Config.NLayers}, heads: {tiny.Config.NHeads}\");")
            .Code("#!circuitnotebooks --plotly once")
            .Save(Path.Combine(dir, "magics.ipynb"));
        var run = await ExecutedNotebook.RunFileAsync(nb, log);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.DefaultModel, "config.json")))!;
        Assert.Equal($"{config["num_hidden_layers"]}, heads: {config["num_attention_heads"]}", run.Printed("layers"));
        var versions = Html(run.Cells[1]);
        Assert.Contains("<td>plotly.js (embedded)</td><td>3.7.0</td>", versions);
        Assert.Contains("<td>plotly.js in every chart output</td><td>yes</td>", versions);
        Assert.Contains("<td>plotly.js in every chart output</td><td>no (once per notebook)</td>", Html(run.Cells[4]));
        Assert.Contains("<caption>HookedTransformer</caption>", Html(run.Cells[2])); // the model's summary formatter
    }

    [Fact]
    public async Task AFailingExtensionScriptFailsTheRun()
    {
        var dir = KernelPackages.NewWorkingDirectory("broken-extension");
        var project = Directory.CreateDirectory(Path.Combine(dir, "broken")).FullName;
        File.WriteAllText(Path.Combine(project, "extension.dib"), "#!csharp\n\nthrow new InvalidOperationException(\"broken extension script\");\n");
        File.WriteAllText(Path.Combine(project, "Marker.cs"), "namespace BrokenExtension; public static class Marker { }\n");
        File.WriteAllText(Path.Combine(project, "BrokenExtension.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework><PackageId>CircuitNotebooksTests.BrokenExtension</PackageId><Version>1.0.0</Version></PropertyGroup>
              <ItemGroup><None Include="extension.dib" Pack="true" PackagePath="interactive-extensions/dotnet" /></ItemGroup>
            </Project>
            """);
        var packages = Path.Combine(dir, "broken-packages");
        var psi = new ProcessStartInfo("dotnet", ["pack", project, "-o", packages, "-nologo"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using (var p = Process.Start(psi)!)
        {
            var output = await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync();
            Assert.True(p.ExitCode == 0, output);
        }
        // A unique id per run: NuGet would otherwise reuse a cached copy.
        var config = File.ReadAllText(Path.Combine(dir, "NuGet.Config"))
            .Replace("</packageSources>", "  <add key=\"broken\" value=\"broken-packages\" />\n  </packageSources>");
        File.WriteAllText(Path.Combine(dir, "NuGet.Config"), config);
        // An exact version ("…, 1.0.0") from a NuGet.Config-only source silently restores nothing in this kernel; none or *-* works.
        var nb = new NotebookBuilder().Code("#r \"nuget: CircuitNotebooksTests.BrokenExtension\"").Code("Console.WriteLine(\"not reached\");")
            .Save(Path.Combine(dir, "broken.ipynb"));
        try
        {
            var result = await NotebookRunner.RunAsync(new NotebookRunOptions { NotebookPath = nb, WorkingDirectory = dir });
            Assert.True(result.Failure != null, string.Join("\n", result.Notebook.Elements[0].Outputs.Select(o => o switch
            {
                DisplayElement d => "display " + string.Join(" | ", d.Data.Select(kv => kv.Key + ": " + kv.Value)),
                TextElement t => "text " + t.Text,
                ErrorElement e => "error " + e.ErrorValue,
                _ => o.GetType().Name,
            })));
            Assert.Equal(1, result.Failure!.CellNumber);
            Assert.Contains("broken extension script", result.Failure.Message);
            Assert.Empty(result.Notebook.Elements[1].Outputs); // nothing runs after the failing cell
        }
        finally
        {
            var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            var cached = Path.Combine(cache, "circuitnotebookstests.brokenextension");
            if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
        }
    }

    private static string Html(InteractiveDocumentElement cell) =>
        string.Concat(cell.Outputs.OfType<DisplayElement>().Where(d => d.Data.ContainsKey("text/html")).Select(d => d.Data["text/html"].ToString()));
}
