using System.Collections.Concurrent;
using System.Reactive.Linq;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.PackageManagement;

namespace CircuitNotebooks.Cli.Notebooks;

/// <summary>
/// The real .NET Interactive C# kernel, hosted in this process the way dotnet-interactive and dotnet-repl host it:
/// <c>#r "nuget:"</c>, kernel helpers (<c>display</c>), value sharing, and — which the packages do not do by
/// themselves — running a restored package's <c>interactive-extensions/dotnet/extension.dib</c>.
/// </summary>
public static class NotebookKernel
{
    public const string CSharp = "csharp";

    public static CompositeKernel Create()
    {
        var csharp = new CSharpKernel()
            .UseNugetDirective((k, packages) =>
            {
                k.AddAssemblyReferences(packages.SelectMany(p => p.AssemblyPaths));
                return Task.CompletedTask;
            }, forceRestore: false)
            .UseKernelHelpers()
            .UseValueSharing();
        var kernel = new CompositeKernel { csharp };
        kernel.DefaultKernelName = CSharp;
        UseExtensionScripts(kernel);
        return kernel;
    }

    /// <summary>
    /// After the command that restored a package finishes, runs the package's extension script, one submission per
    /// cell, as children of that command. The kernel's own LoadAndRunInteractiveDocument ignores the submissions'
    /// results, so a broken script would pass unnoticed; here its first failing cell fails the command.
    /// </summary>
    private static void UseExtensionScripts(CompositeKernel kernel)
    {
        var added = new ConcurrentQueue<string>();
        var seen = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        kernel.RegisterForDisposal(kernel.KernelEvents.OfType<PackageAdded>().Subscribe(e =>
        {
            if (e.PackageReference.PackageRoot is { } root && seen.TryAdd(root, true)) added.Enqueue(root);
        }));
        kernel.AddMiddleware(async (command, context, next) =>
        {
            await next(command, context);
            while (added.TryDequeue(out var root))
            {
                var script = new FileInfo(Path.Combine(root, "interactive-extensions", "dotnet", "extension.dib"));
                if (!script.Exists) continue;
                KernelInvocationContextExtensions.Display(context, $"Loading extension script from `{script.FullName}`", "text/plain");
                if (await RunScriptAsync(kernel, script, command) is { } error)
                {
                    context.Fail(command, null, $"extension script {script.FullName} failed: {error}");
                    return;
                }
            }
        });
    }

    private static async Task<string?> RunScriptAsync(Kernel kernel, FileInfo script, KernelCommand parent)
    {
        var document = CodeSubmission.Parse(await File.ReadAllTextAsync(script.FullName), NotebookRunner.KernelInfos());
        foreach (var cell in document.Elements.Where(e => e.KernelName != "markdown" && !string.IsNullOrWhiteSpace(e.Contents)))
        {
            var submission = new SubmitCode(cell.Contents, CSharp);
            submission.SetParent(parent, bubbleEvents: true);
            var result = await kernel.SendAsync(submission);
            if (result.Events.OfType<CommandFailed>().FirstOrDefault() is { } failed) return failed.Message;
        }
        return null;
    }
}
