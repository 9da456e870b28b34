using System.Diagnostics;
using System.Reflection;
using CircuitNotebooks.Interactive.Html;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Scripting;

namespace CircuitNotebooks.Interactive.Runner;

/// <summary>
/// Executes a Polyglot C# notebook headlessly: code cells in order as Roslyn script submissions sharing state
/// (like the kernel), values rendered through the same Formatting registry as in VS Code, outputs written back to
/// an .ipynb and to one offline HTML page. Stops at the first failing cell.
/// <code>
/// var result = await NotebookRunner.RunAsync(new NotebookRunOptions
/// {
///     NotebookPath = "notebooks/ioi.ipynb",
///     OutputNotebookPath = "out/ioi.ipynb",
///     OutputHtmlPath = "out/ioi.html",
///     Parameters = NotebookParameters.Parse(["edges=200"]),
/// }, progress: null, cancellationToken);
/// </code>
/// </summary>
public static class NotebookRunner
{
    public const string ParametersTag = "parameters";
    public const string InjectedParametersTag = "injected-parameters";

    private static readonly string[] DefaultImports =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Text", "System.Threading", "System.Threading.Tasks"];

    // Console redirection and the working directory are process-wide: runs are serialised.
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    public static async Task<NotebookRunResult> RunAsync(NotebookRunOptions options, IProgress<NotebookRunProgress>? progress = null,
                                                         CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var notebookPath = Path.GetFullPath(options.NotebookPath);
        var input = NotebookDocument.Load(notebookPath);
        await OneAtATime.WaitAsync(cancellationToken);
        try
        {
            return await RunCoreAsync(input, notebookPath, options, progress, cancellationToken);
        }
        finally
        {
            OneAtATime.Release();
        }
    }

    private static async Task<NotebookRunResult> RunCoreAsync(NotebookDocument input, string notebookPath, NotebookRunOptions options,
                                                              IProgress<NotebookRunProgress>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var packages = options.Packages ?? PackageMap.Default();
        var notebookDir = Path.GetDirectoryName(notebookPath)!;
        var output = new NotebookDocument(input.Metadata.DeepClone().AsObject());
        var notes = new List<string>();
        var overrides = new Dictionary<string, object?>(options.Parameters, StringComparer.Ordinal);
        var parametersIndex = input.Cells.FindIndex(c => c.IsCode && c.Tags.Contains(ParametersTag));
        if (overrides.Count > 0 && parametersIndex < 0)
            throw new ArgumentException($"{notebookPath}: parameters were given ({string.Join(", ", overrides.Keys)}) but no cell is tagged '{ParametersTag}'");

        NotebookKit.Register();
        var gate = new object();
        var outputs = new CellOutputs(gate);
        var globals = new RunnerGlobals(outputs, notebookPath);
        var scriptOptions = ScriptOptions.Default
            .WithReferences(BaseReferences())
            .WithImports(DefaultImports)
            .WithLanguageVersion(LanguageVersion.Latest)
            .WithAllowUnsafe(true)
            .WithFilePath(notebookPath)
            .WithEmitDebugInformation(false);
        ScriptState<object>? state = null;
        NotebookCellException? failure = null;
        var codeCellsRun = 0;
        var executionCount = 0;

        var previousOut = Console.Out;
        var previousDirectory = Environment.CurrentDirectory;
        using var document = PlotlyEmbedding.BeginDocument();
        using var displayScope = NotebookKit.UseDisplayScope(outputs);
        Console.SetOut(outputs.Console);
        Environment.CurrentDirectory = options.WorkingDirectory ?? notebookDir;
        try
        {
            for (var i = 0; i < input.Cells.Count && failure == null; i++)
            {
                ct.ThrowIfCancellationRequested();
                var source = input.Cells[i];
                var cellNumber = i + 1;
                var cell = new NotebookCell(source.CellType, source.Source, source.Metadata.DeepClone().AsObject());
                output.Cells.Add(cell);
                if (!cell.IsCode) continue;
                if (cell.KernelName is { } kernel && kernel is not ("csharp" or "C#" or "c#"))
                {
                    if (kernel is "markdown" or "md") continue;
                    failure = new NotebookCellException(notebookPath, cellNumber,
                        $"uses kernel '{kernel}'; the headless runner runs C# cells only");
                    break;
                }
                progress?.Report(new NotebookRunProgress(cellNumber, input.Cells.Count, "running"));
                outputs.Begin(cell);
                cell.ExecutionCount = ++executionCount;
                (state, failure, scriptOptions) = await RunCellAsync(cell, cellNumber, state, scriptOptions, globals, outputs, notebookPath,
                                                                     notebookDir, packages, notes, ct);
                outputs.End();
                codeCellsRun++;

                if (failure == null && i == parametersIndex && overrides.Count > 0)
                {
                    var injected = NotebookCell.CreateCode(InjectionSource(source.Source, state!, overrides, notebookPath, cellNumber),
                                                           InjectedParametersTag);
                    output.Cells.Add(injected);
                    outputs.Begin(injected);
                    injected.ExecutionCount = ++executionCount;
                    (state, failure, scriptOptions) = await RunCellAsync(injected, cellNumber, state, scriptOptions, globals, outputs,
                                                                         notebookPath, notebookDir, packages, notes, ct);
                    outputs.End();
                    codeCellsRun++;
                }
            }
        }
        finally
        {
            Console.SetOut(previousOut);
            Environment.CurrentDirectory = previousDirectory;
        }

        // The failing notebook is written too (cells after the failure unexecuted): its error output is the best debugging aid.
        foreach (var rest in input.Cells.Skip(failure?.CellNumber ?? input.Cells.Count))
            output.Cells.Add(new NotebookCell(rest.CellType, rest.Source, rest.Metadata.DeepClone().AsObject()));
        var ipynb = options.OutputNotebookPath == null ? null : output.Save(options.OutputNotebookPath);
        var html = options.OutputHtmlPath == null
            ? null
            : NotebookHtml.Render(output, Path.GetFileNameWithoutExtension(notebookPath)).Save(options.OutputHtmlPath);
        progress?.Report(new NotebookRunProgress(input.Cells.Count, input.Cells.Count, failure == null ? "done" : "failed"));
        if (failure != null && options.ThrowOnError) throw failure;
        return new NotebookRunResult(output, codeCellsRun, notes, failure, clock.Elapsed, ipynb, html);
    }

    private static async Task<(ScriptState<object>?, NotebookCellException?, ScriptOptions)> RunCellAsync(
        NotebookCell cell, int cellNumber, ScriptState<object>? state, ScriptOptions scriptOptions, RunnerGlobals globals,
        CellOutputs outputs, string notebookPath, string notebookDir, PackageMap packages, List<string> notes, CancellationToken ct)
    {
        PreparedCell prepared;
        try
        {
            prepared = CellDirectives.Prepare(cell.Source, notebookDir, packages);
        }
        catch (DirectiveException e)
        {
            outputs.Error(nameof(DirectiveException), e.Message, [e.Message]);
            return (state, new NotebookCellException(notebookPath, cellNumber, e.Message, e), scriptOptions);
        }
        notes.AddRange(prepared.Notes.Select(n => $"cell {cellNumber}: {n}"));
        if (prepared.Assemblies.Count > 0)
            scriptOptions = scriptOptions.AddReferences(prepared.Assemblies.Where(a => !string.IsNullOrEmpty(a.Location)).Distinct());
        if (prepared.ReferencePaths.Count > 0)
            scriptOptions = scriptOptions.AddReferences(prepared.ReferencePaths.Select(p => MetadataReference.CreateFromFile(p)));
        try
        {
            foreach (var magic in prepared.KitMagics) outputs.Display(NotebookKit.Magic(magic));
            if (prepared.IsMarkdown || string.IsNullOrWhiteSpace(prepared.Code)) return (state, null, scriptOptions);
            state = state == null
                ? await CSharpScript.RunAsync<object>(prepared.Code, scriptOptions, globals, typeof(RunnerGlobals), ct)
                : await state.ContinueWithAsync<object>(prepared.Code, scriptOptions, ct);
            // `display(x)` as a cell's last expression returns its handle: the value is already shown once.
            if (state.ReturnValue is { } value and not Display.IDisplayHandle) outputs.Display(value);
            return (state, null, scriptOptions);
        }
        catch (CompilationErrorException e)
        {
            var errors = e.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(FormatDiagnostic).ToArray();
            var detail = "compilation failed:\n" + string.Join("\n", errors);
            outputs.Error("CompilationError", string.Join("; ", errors), errors);
            return (state, new NotebookCellException(notebookPath, cellNumber, detail, e), scriptOptions);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            var root = e is TargetInvocationException { InnerException: { } inner } ? inner : e;
            var detail = $"{root.GetType().FullName}: {root.Message}";
            outputs.Error(root.GetType().Name, root.Message, (root.ToString()).Split('\n'));
            return (state, new NotebookCellException(notebookPath, cellNumber, detail, root), scriptOptions);
        }
    }

    /// <summary>Declares each override with the type its variable got from the parameters cell.</summary>
    private static string InjectionSource(string parametersSource, ScriptState<object> state, IReadOnlyDictionary<string, object?> overrides,
                                          string notebookPath, int cellNumber)
    {
        var declared = DeclaredNames(parametersSource);
        var lines = new List<string> { "// Parameters injected by the headless runner" };
        foreach (var (name, value) in overrides.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!declared.Contains(name))
                throw new ArgumentException(
                    $"{notebookPath}: parameter '{name}' is not declared in the parameters cell (cell {cellNumber}); declared: {string.Join(", ", declared.Order())}");
            var variable = state.Variables.Last(v => v.Name == name);
            lines.Add(NotebookParameters.Declaration(name, variable.Type, value));
        }
        return string.Join("\n", lines);
    }

    internal static HashSet<string> DeclaredNames(string source)
    {
        var tree = CSharpSyntaxTree.ParseText(source, CSharpParseOptions.Default.WithKind(SourceCodeKind.Script));
        return tree.GetRoot().DescendantNodes().OfType<GlobalStatementSyntax>()
            .Select(g => g.Statement).OfType<LocalDeclarationStatementSyntax>()
            .SelectMany(d => d.Declaration.Variables).Select(v => v.Identifier.ValueText)
            .Concat(tree.GetRoot().DescendantNodes().OfType<FieldDeclarationSyntax>()
                        .SelectMany(f => f.Declaration.Variables).Select(v => v.Identifier.ValueText))
            .ToHashSet(StringComparer.Ordinal);
    }

    private static string FormatDiagnostic(Diagnostic d)
    {
        var span = d.Location.GetLineSpan();
        return $"({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): error {d.Id}: {d.GetMessage()}";
    }

    /// <summary>The shared framework plus the Formatting package, as a kernel has before any #r.</summary>
    private static IEnumerable<MetadataReference> BaseReferences()
    {
        var tpa = (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "").Split(Path.PathSeparator);
        var frameworkDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var framework = tpa.Where(p => p.Length > 0 && string.Equals(Path.GetDirectoryName(p), frameworkDir, StringComparison.Ordinal));
        var extra = new[]
        {
            typeof(Microsoft.DotNet.Interactive.Formatting.Formatter).Assembly.Location,
            typeof(Microsoft.AspNetCore.Html.IHtmlContent).Assembly.Location,
            typeof(NotebookKit).Assembly.Location, // display() returns its IDisplayHandle
            typeof(RunnerGlobals).Assembly.Location,
        };
        return framework.Concat(extra).Where(File.Exists).Distinct().Select(p => MetadataReference.CreateFromFile(p));
    }
}
