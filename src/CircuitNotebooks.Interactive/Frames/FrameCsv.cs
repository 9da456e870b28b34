using System.Globalization;
using CircuitNotebooks.Models;
using Deedle;

namespace CircuitNotebooks.Interactive;

/// <summary>CSV export of frames: invariant culture, comma separated, written atomically (a reader never sees half a file).</summary>
public static class FrameCsv
{
    /// <summary>Writes <paramref name="frame"/> to <paramref name="path"/>; returns the full path.</summary>
    public static string WriteCsv<TRow, TCol>(this Frame<TRow, TCol> frame, string path, bool includeRowKeys = false)
        where TRow : notnull where TCol : notnull
    {
        ArgumentNullException.ThrowIfNull(frame);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), leaveOpen: true);
            FrameExtensions.SaveCsv(frame, writer, includeRowKeys, null, ',', CultureInfo.InvariantCulture);
        });
        return Path.GetFullPath(path);
    }
}
