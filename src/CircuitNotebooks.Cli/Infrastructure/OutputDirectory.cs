using System.Text;

namespace CircuitNotebooks.Cli.Infrastructure;

/// <summary>
/// The --out folder. Every file appears complete or not at all: written to a temporary name beside it and renamed
/// into place, the temporary removed on any failure (disk full included). Left-over temporaries of a killed run are
/// swept when the folder is opened.
/// </summary>
public sealed class OutputDirectory
{
    public const string TempSuffix = ".partial";

    /// <summary>Test seam: called with the final path before every write (throw to simulate e.g. a full disk).</summary>
    internal static Action<string>? BeforeWrite;

    public OutputDirectory(string root)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
        foreach (var tmp in Directory.EnumerateFiles(Root, "*" + TempSuffix, SearchOption.AllDirectories))
            File.Delete(tmp);
    }

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    public bool Exists(string relative) => File.Exists(PathOf(relative));

    public string WriteText(string relative, string text) => Write(relative, path => File.WriteAllText(path, text, new UTF8Encoding(false)));

    /// <summary>Writes through <paramref name="write"/> (given the temporary path) and renames into place.</summary>
    public string Write(string relative, Action<string> write)
    {
        var path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var tmp = path + TempSuffix;
        try
        {
            BeforeWrite?.Invoke(path);
            write(tmp);
            File.Move(tmp, path, overwrite: true);
            return path;
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>Appends one line to a log file (the run log is a journal, not a result: appends need no rename).</summary>
    public void AppendLine(string relative, string line)
    {
        File.AppendAllText(PathOf(relative), line + "\n");
    }
}
