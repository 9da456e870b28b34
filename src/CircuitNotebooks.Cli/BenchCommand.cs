using System.CommandLine;
using CircuitNotebooks.Models.Benchmarks;
using Spectre.Console;

namespace CircuitNotebooks.Cli;

/// <summary>`bench`: the engine's performance ratios, measured in one run and printed as one table.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "Fewer repeats (noisier numbers)." };
        var cmd = new Command("bench", "Measure the engine's performance ratios on this machine.") { quick };
        cmd.SetAction(parse =>
        {
            int repeats = parse.GetValue(quick) ? 3 : 10;
            var table = new Table().AddColumns("measure", "value", "target");
            var f = ForwardBenchmark.Run(repeats: repeats);
            table.AddRow($"forward, idle hooks / plain TorchSharp ({f.Model}, {f.Batch}×{f.Positions})", $"{f.HookOverhead:F3}", "≤ 1.05");
            table.AddRow("forward with full activation cache / plain", $"{f.CacheOverhead:F3}", "report");
            table.AddRow("forward GFLOP/s (hooked)", $"{f.ForwardGflops:F1}", "report");
            table.AddRow("raw libtorch matmul GFLOP/s", $"{f.MatmulGflops:F1}", "report");
            foreach (var row in ExtraBenchmarks.Rows(repeats)) table.AddRow(row.Measure, row.Value, row.Target);
            AnsiConsole.Write(table);
            return 0;
        });
        return cmd;
    }
}

/// <summary>Benchmarks of later layers register their rows here.</summary>
internal static partial class ExtraBenchmarks
{
    public static IEnumerable<(string Measure, string Value, string Target)> Rows(int repeats) => [];
}
