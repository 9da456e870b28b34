namespace CircuitNotebooks.Interactive.Tests;

internal static class TestPaths
{
    /// <summary>A fresh folder under the test output directory (kept after the run for inspection).</summary>
    public static string NewDirectory(string name)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "TestResults", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static int Count(string haystack, string needle)
    {
        var count = 0;
        for (var i = haystack.IndexOf(needle, StringComparison.Ordinal); i >= 0; i = haystack.IndexOf(needle, i + needle.Length, StringComparison.Ordinal))
            count++;
        return count;
    }
}
