using System.Text.Json;

namespace CircuitNotebooks.Cli.Infrastructure;

/// <summary>Maps any exception that escapes a command to one line for the user and an exit code.</summary>
public static class CliErrors
{
    public static (int ExitCode, string Message) Classify(Exception e)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } agg) e = agg.InnerExceptions[0];
        return e switch
        {
            CliException c => (c.ExitCode, c.Message),
            OperationCanceledException => (ExitCodes.Interrupted,
                "interrupted; everything finished so far is on disk. Run the same command again to resume."),
            _ when IsDiskFull(e) => (ExitCodes.DiskFull,
                $"out of disk space ({e.Message.TrimEnd('.')}). Free some space and run the same command again: finished work is kept."),
            JsonException j => (ExitCodes.BadInput, j.Message),
            // A task the model's tokenizer cannot score: pick another --task or --model.
            Tasks.TaskValidationException t => (ExitCodes.BadInput, t.Message + " Pick another --task or --model."),
            _ => (ExitCodes.Failure, e.Message),
        };
    }

    /// <summary>ENOSPC on Unix (HResult is the errno there), ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.</summary>
    public static bool IsDiskFull(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is not IOException io) continue;
            int code = io.HResult & 0xFFFF;
            if (code is 28 or 112 or 39) return true;
            if (io.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase)
                || io.Message.Contains("not enough space on the disk", StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }
}
