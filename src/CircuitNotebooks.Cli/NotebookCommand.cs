using System.CommandLine;
using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Cli.Notebooks;
using Spectre.Console;

namespace CircuitNotebooks.Cli;

/// <summary>`notebook run`: executes a notebook headlessly and writes the executed .ipynb and an offline .html.</summary>
internal static class NotebookCommand
{
    public static Command Create(CliContext ctx, Option<bool> verbose)
    {
        var input = new Argument<string>("notebook") { Description = "The .ipynb to run." };
        var outDir = new Option<string>("--out") { Description = "Output directory. Default: out/notebooks.", HelpName = "dir" };
        var parameters = new Option<string[]>("--parameter", "-p")
        {
            Description = "Override a variable of the cell tagged 'parameters': -p name=value (repeatable).",
            HelpName = "name=value", AllowMultipleArgumentsPerToken = false, Arity = ArgumentArity.ZeroOrMore,
        };
        var workdir = new Option<string>("--workdir") { Description = "Directory relative paths resolve against. Default: the notebook's folder.", HelpName = "dir" };
        var run = new Command("run", "Run a notebook in the real .NET Interactive C# kernel (hosted in this process), top to bottom; writes <name>.ipynb with outputs and <name>.html.")
            { input, outDir, parameters, workdir };
        CommandAction.Set(run, ctx, verbose, async (p, ct) =>
        {
            var path = p.GetValue(input)!;
            if (!File.Exists(path)) throw CliException.BadInput($"notebook not found: {path}");
            IReadOnlyDictionary<string, string> values;
            try { values = NotebookParameters.Parse(p.GetValue(parameters) ?? []); }
            catch (ArgumentException e) { throw CliException.Usage($"-p: {e.Message}"); }
            var dir = new OutputDirectory(p.GetValue(outDir) ?? "out/notebooks");
            var name = Path.GetFileNameWithoutExtension(path);
            var progress = new Progress<NotebookRunProgress>(x => ctx.Out.MarkupLineInterpolated($"cell {x.CellNumber}/{x.CellCount}: {x.Status}"));
            NotebookRunResult result;
            try
            {
                result = await NotebookRunner.RunAsync(new NotebookRunOptions
                {
                    NotebookPath = path, Parameters = values, WorkingDirectory = p.GetValue(workdir) is { } w ? Path.GetFullPath(w) : null,
                    OutputNotebookPath = dir.PathOf(name + ".ipynb"), OutputHtmlPath = dir.PathOf(name + ".html"),
                }, progress, ct);
            }
            catch (ArgumentException e) { throw CliException.Usage(e.Message); }
            catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException) { throw CliException.BadInput($"{path}: {e.Message}", e); }
            if (result.Failure is { } f)
                throw new CliException(ExitCodes.Failure, $"{f} (outputs so far in {dir.Root})");
            ctx.Out.MarkupLineInterpolated($"{result.CodeCellsRun} code cells in {result.Elapsed.TotalSeconds:F1} s; wrote {result.OutputNotebookPath} and {result.OutputHtmlPath}");
            return 0;
        });
        var cmd = new Command("notebook", "Notebook tools.") { run };
        return cmd;
    }
}
