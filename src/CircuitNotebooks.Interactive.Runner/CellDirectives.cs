using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace CircuitNotebooks.Interactive.Runner;

/// <summary>A directive line the runner could not honour; the runner reports it with the cell number.</summary>
public sealed class DirectiveException(string message) : Exception(message);

/// <summary>What a code cell asks for besides its C# code.</summary>
internal sealed class PreparedCell
{
    public required string Code { get; init; }
    public List<Assembly> Assemblies { get; } = [];
    public List<string> ReferencePaths { get; } = [];
    public List<string> Notes { get; } = [];
    /// <summary>Arguments of each #!circuitnotebooks line (null when it had no --plotly).</summary>
    public List<string?> KitMagics { get; } = [];
    public bool IsMarkdown { get; init; }
}

/// <summary>
/// Turns a Polyglot C# cell into plain C# script code, honouring the directives our notebooks use. Directive lines
/// become blank lines so compiler line numbers still match the cell (except after an inlined #!import).
/// </summary>
internal static partial class CellDirectives
{
    [GeneratedRegex("""^\s*#r\s+"nuget:\s*(?<id>[^,"\s]+)\s*(,\s*(?<version>[^"]*))?"\s*$""")]
    private static partial Regex NugetReference();

    [GeneratedRegex("""^\s*#r\s+"(?<path>[^"]+)"\s*$""")]
    private static partial Regex PathReference();

    [GeneratedRegex("""^\s*#i\s+"(?<source>[^"]*)"\s*$""")]
    private static partial Regex PackageSource();

    [GeneratedRegex("""^\s*#!(?<name>[A-Za-z#][\w#.-]*)(\s+(?<args>.*))?$""")]
    private static partial Regex Magic();

    [GeneratedRegex("""--plotly\s+(?<value>\S+)""")]
    private static partial Regex PlotlyOption();

    public static PreparedCell Prepare(string source, string baseDirectory, PackageMap packages) =>
        Prepare(source, baseDirectory, packages, new HashSet<string>(StringComparer.Ordinal));

    private static PreparedCell Prepare(string source, string baseDirectory, PackageMap packages, HashSet<string> importing)
    {
        var lines = source.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var first = lines.FirstOrDefault(l => l.Trim().Length > 0)?.Trim();
        if (first is "#!markdown" or "#!md")
            return new PreparedCell { Code = string.Join('\n', lines.SkipWhile(l => l.Trim().Length == 0).Skip(1)), IsMarkdown = true };

        var code = new StringBuilder();
        var pending = new List<Action<PreparedCell>>();
        foreach (var line in lines)
        {
            if (NugetReference().Match(line) is { Success: true } nuget)
            {
                var id = nuget.Groups["id"].Value;
                if (!packages.TryResolve(id, out var assemblies))
                    throw new DirectiveException(
                        $"#r \"nuget: {id}\": package '{id}' is not available to the headless runner (it maps packages to the local build " +
                        $"and downloads nothing). Known packages: {string.Join(", ", packages.Known)}.");
                pending.Add(c => c.Assemblies.AddRange(assemblies));
                var version = nuget.Groups["version"].Value.Trim();
                if (version.Length > 0) pending.Add(c => c.Notes.Add($"#r \"nuget: {id}, {version}\": using the local build, version ignored"));
                code.Append('\n');
            }
            else if (PackageSource().Match(line) is { Success: true } src)
            {
                pending.Add(c => c.Notes.Add($"#i \"{src.Groups["source"].Value}\" ignored: the headless runner uses the local build"));
                code.Append('\n');
            }
            else if (PathReference().Match(line) is { Success: true } path)
            {
                var full = Path.GetFullPath(Path.Combine(baseDirectory, path.Groups["path"].Value));
                if (!File.Exists(full)) throw new DirectiveException($"#r \"{path.Groups["path"].Value}\": file not found ({full})");
                pending.Add(c => c.ReferencePaths.Add(full));
                code.Append('\n');
            }
            else if (Magic().Match(line) is { Success: true } magic)
            {
                var name = magic.Groups["name"].Value;
                var args = magic.Groups["args"].Value.Trim();
                switch (name)
                {
                    case "csharp" or "c#" or "C#":
                        code.Append('\n');
                        break;
                    case "import":
                        code.Append(Import(args, baseDirectory, packages, importing, pending)).Append('\n');
                        break;
                    case "circuitnotebooks":
                        var plotly = PlotlyOption().Match(args);
                        pending.Add(c => c.KitMagics.Add(plotly.Success ? plotly.Groups["value"].Value : null));
                        code.Append('\n');
                        break;
                    case "circuit-model":
                        // In a kernel the magic exists only once the package is loaded; here it brings the package itself.
                        if (packages.TryResolve("CircuitNotebooks.Interactive", out var kit)) pending.Add(c => c.Assemblies.AddRange(kit));
                        code.Append(CircuitModel(args)).Append('\n');
                        break;
                    case "time":
                        pending.Add(c => c.Notes.Add("#!time ignored by the headless runner"));
                        code.Append('\n');
                        break;
                    default:
                        throw new DirectiveException(
                            $"magic command '#!{name}' is not supported by the headless runner (supported: #!csharp, #!import, #!circuitnotebooks, #!circuit-model, #!time)");
                }
            }
            else
            {
                code.Append(line).Append('\n');
            }
        }
        var prepared = new PreparedCell { Code = code.ToString().TrimEnd('\n') };
        foreach (var apply in pending) apply(prepared);
        return prepared;
    }

    /// <summary>
    /// <c>#!circuit-model &lt;dir&gt; [--name model] [--device cpu]</c> as extension.dib defines it: the model is loaded
    /// into a variable (default <c>model</c>) and displayed. The runner expresses that as one line of C#.
    /// </summary>
    internal static string CircuitModel(string args)
    {
        var tokens = Tokenize(args);
        string? path = null, name = "model", device = "cpu";
        for (int i = 0; i < tokens.Count; i++)
        {
            string Value() => i + 1 < tokens.Count ? tokens[++i] : throw new DirectiveException($"#!circuit-model: {tokens[i]} needs a value");
            switch (tokens[i])
            {
                case "--name": name = Value(); break;
                case "--device": device = Value(); break;
                case "--path": path = Value(); break;
                case var t when t.StartsWith("--", StringComparison.Ordinal):
                    throw new DirectiveException($"#!circuit-model: unknown option {t} (options: --name, --device)");
                default:
                    if (path != null) throw new DirectiveException($"#!circuit-model: more than one model directory ('{path}', '{tokens[i]}')");
                    path = tokens[i];
                    break;
            }
        }
        if (path == null) throw new DirectiveException("#!circuit-model needs a model directory, e.g. #!circuit-model ../data/models/tiny-neox");
        if (!Microsoft.CodeAnalysis.CSharp.SyntaxFacts.IsValidIdentifier(name))
            throw new DirectiveException($"#!circuit-model --name: '{name}' is not a C# identifier");
        static string Literal(string s) => Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(s, quote: true);
        return $"var {name} = global::CircuitNotebooks.Interactive.NotebookKit.LoadModel({Literal(path)}, {Literal(device)}); display({name});";
    }

    /// <summary>Whitespace-separated tokens; double quotes group a token with spaces.</summary>
    private static List<string> Tokenize(string args)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        bool quoted = false, any = false;
        foreach (var ch in args)
        {
            if (ch == '"') { quoted = !quoted; any = true; }
            else if (char.IsWhiteSpace(ch) && !quoted)
            {
                if (any) tokens.Add(current.ToString());
                current.Clear();
                any = false;
            }
            else { current.Append(ch); any = true; }
        }
        if (quoted) throw new DirectiveException($"#!circuit-model: unbalanced quote in '{args}'");
        if (any) tokens.Add(current.ToString());
        return tokens;
    }

    private static string Import(string args, string baseDirectory, PackageMap packages, HashSet<string> importing,
                                 List<Action<PreparedCell>> pending)
    {
        var relative = args.Trim().Trim('"');
        if (relative.Length == 0) throw new DirectiveException("#!import needs a file path");
        var full = Path.GetFullPath(Path.Combine(baseDirectory, relative));
        var ext = Path.GetExtension(full).ToLowerInvariant();
        if (ext is not (".cs" or ".csx"))
            throw new DirectiveException($"#!import {relative}: only .cs and .csx files can be imported by the headless runner");
        if (!File.Exists(full)) throw new DirectiveException($"#!import {relative}: file not found ({full})");
        if (!importing.Add(full)) throw new DirectiveException($"#!import {relative}: circular import");
        try
        {
            var inner = Prepare(File.ReadAllText(full), Path.GetDirectoryName(full)!, packages, importing);
            pending.Add(c =>
            {
                c.Assemblies.AddRange(inner.Assemblies);
                c.ReferencePaths.AddRange(inner.ReferencePaths);
                c.Notes.AddRange(inner.Notes);
                c.KitMagics.AddRange(inner.KitMagics);
            });
            return inner.Code;
        }
        finally
        {
            importing.Remove(full);
        }
    }
}
