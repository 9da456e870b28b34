using CircuitNotebooks.Cli.Infrastructure;
using Xunit;

namespace CircuitNotebooks.Cli.Tests;

/// <summary>Bad inputs: one "error:" line naming the problem, the documented exit code, no stack trace, nothing in --out.</summary>
public sealed class BadInputTests
{
    /// <summary>A short valid reproduce command line with <paramref name="extra"/> option/value pairs replacing or adding to it.</summary>
    private static string[] Short(string outDir, params string[] extra)
    {
        var options = new List<(string, string)> { ("--model", TinyModel.Path), ("--steps", "2"), ("--checkpoint-every", "2"), ("--ig-steps", "1"), ("--examples", "40"), ("--out", outDir) };
        for (int i = 0; i + 1 < extra.Length; i += 2)
        {
            options.RemoveAll(o => o.Item1 == extra[i]);
            options.Add((extra[i], extra[i + 1]));
        }
        return ["reproduce", .. options.SelectMany(o => new[] { o.Item1, o.Item2 })];
    }

    private static async Task<Cli.Result> Expect(int code, string message, params string[] args)
    {
        var r = await Cli.Run(args);
        Assert.True(r.ExitCode == code, r.ToString());
        Assert.StartsWith("error: ", r.Err);
        Assert.Contains(message, r.Err);
        Assert.DoesNotContain("   at ", r.Err); // no stack trace without --verbose
        return r;
    }

    [Fact]
    public async Task MissingModelDirectory()
    {
        var outDir = TempDirs.NewPath("bad");
        var missing = TempDirs.NewPath("no-model");
        await Expect(ExitCodes.BadInput, $"--model '{missing}': Model folder not found", "reproduce", "--model", missing, "--out", outDir);
        Assert.False(Directory.Exists(outDir), "nothing may be written to --out for a bad model");
    }

    [Fact]
    public async Task ModelDirectoryWithoutConfigOrWeights()
    {
        var dir = TempDirs.NewPath("empty-model");
        Directory.CreateDirectory(dir);
        var outDir = TempDirs.NewPath("bad");
        await Expect(ExitCodes.BadInput, "config.json is missing", "reproduce", "--model", dir, "--out", outDir);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{}");
        await Expect(ExitCodes.BadInput, "no safetensors weights found", "discover", "--model", dir, "--out", outDir);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task CorruptWeightsAreABadModel()
    {
        var dir = TempDirs.NewPath("corrupt-model");
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(TinyModel.Path)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        File.WriteAllBytes(Path.Combine(dir, "model.safetensors"), [1, 2, 3]);
        var outDir = TempDirs.NewPath("bad");
        await Expect(ExitCodes.BadInput, "could not be loaded", "reproduce", "--model", dir, "--out", outDir);
    }

    [Fact]
    public async Task UnknownTask()
    {
        var outDir = TempDirs.NewPath("bad");
        var r = await Expect(ExitCodes.Usage, "unknown task 'nope'", Short(outDir, "--task", "nope"));
        Assert.Contains("addsub", r.Err); // lists the valid names
        Assert.False(Directory.Exists(outDir));
    }

    [Theory]
    [InlineData("--steps", "0", "--steps must be positive (got 0)")]
    [InlineData("--steps", "abc", "abc")]
    [InlineData("--checkpoint-every", "5", "--checkpoint-every (5) is larger than --steps (2)")]
    [InlineData("--edges", "5x", "--edges must be a percentage")]
    [InlineData("--edges", "0%", "--edges must be a percentage")]
    [InlineData("--ig-steps", "0", "--ig-steps must be positive")]
    [InlineData("--methods", "circuitlora", "circuitlora needs lora")]
    [InlineData("--methods", "full,qlora", "unknown method 'qlora'")]
    [InlineData("--methods", "full,randomlayers", "randomlayers needs lora")]
    [InlineData("--seeds", "0", "--seeds must be positive (got 0)")]
    [InlineData("--metric", "probability", "--metric must be one of kl, logit_diff (got 'probability')")]
    [InlineData("--preset", "gpt4", "--preset: unknown preset 'gpt4'. Presets: default, paper")]
    [InlineData("--device", "tpu", "--device must be cpu or cuda")]
    [InlineData("--dtype", "int8", "--dtype must be one of")]
    [InlineData("--frobnicate", "1", "frobnicate")]
    public async Task BadOptionValues(string option, string value, string message)
    {
        var outDir = TempDirs.NewPath("bad");
        await Expect(ExitCodes.Usage, message, Short(outDir, option, value));
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task ConfigFileWithAnUnknownSettingOrBadValue()
    {
        var cfg = TempDirs.NewPath("cfg") + ".json";
        Directory.CreateDirectory(Path.GetDirectoryName(cfg)!);
        File.WriteAllText(cfg, """{ "stpes": 3 }""");
        await Expect(ExitCodes.Usage, "stpes", "reproduce", "--config", cfg);
        File.WriteAllText(cfg, """{ "edges": "150%" }""");
        await Expect(ExitCodes.Usage, "percentage", "reproduce", "--config", cfg);
        await Expect(ExitCodes.Usage, "file not found", "reproduce", "--config", cfg + ".missing");
    }

    [Fact]
    public async Task ConfigFileSettingsApplyAndOptionsOverrideThem()
    {
        var cfg = TempDirs.NewPath("cfg") + ".json";
        Directory.CreateDirectory(Path.GetDirectoryName(cfg)!);
        // steps 1 with checkpointEvery 2 is invalid; --steps 2 on the command line overrides it, so the error left is the task's.
        File.WriteAllText(cfg, """{ "steps": 1, "checkpointEvery": 2, "task": "nope" }""");
        await Expect(ExitCodes.Usage, "--checkpoint-every (2) is larger than --steps (1)", "reproduce", "--config", cfg, "--task", "addsub");
        await Expect(ExitCodes.Usage, "unknown task 'nope'", "reproduce", "--config", cfg, "--steps", "2");
    }

    [Fact]
    public async Task OutOfDiskIsOneMessageAndLeavesNoPartialFile()
    {
        var outDir = TempDirs.NewPath("full-disk");
        OutputDirectory.BeforeWrite = path =>
        {
            if (path.EndsWith("summary.csv")) throw new IOException("No space left on device : '" + path + "'", 28);
        };
        try { await Expect(ExitCodes.DiskFull, "out of disk space", Short(outDir, "--methods", "full")); }
        finally { OutputDirectory.BeforeWrite = null; }
        Assert.False(File.Exists(Path.Combine(outDir, "summary.csv")));
        Assert.False(File.Exists(Path.Combine(outDir, "report.html")));
        Assert.Empty(Directory.GetFiles(outDir, "*" + OutputDirectory.TempSuffix, SearchOption.AllDirectories));
    }

    [Fact]
    public async Task VerboseShowsTheStackTrace()
    {
        var missing = TempDirs.NewPath("no-model");
        var r = await Cli.Run("reproduce", "--model", missing, "--verbose");
        Assert.Equal(ExitCodes.BadInput, r.ExitCode);
        Assert.Contains("   at ", r.Err);
    }

    [Fact]
    public async Task OtherCommandsReportBadInputsTheSameWay()
    {
        var outDir = TempDirs.NewPath("bad");
        await Expect(ExitCodes.BadInput, "circuit file or folder not found", "compare", outDir + "/a.json", outDir + "/b.json");
        await Expect(ExitCodes.BadInput, "notebook not found", "notebook", "run", outDir + "/x.ipynb");
        await Expect(ExitCodes.Usage, "--method must be full, lora or circuitlora", "finetune", "--model", TinyModel.Path, "--method", "adalora");
        await Expect(ExitCodes.Usage, "needs --critical-layers", "finetune", "--model", TinyModel.Path, "--method", "circuitlora", "--out", outDir);
        await Expect(ExitCodes.Usage, "unknown task", "discover", "--model", TinyModel.Path, "--task", "nope");
        var r = await Cli.Run("no-such-command");
        Assert.Equal(ExitCodes.Usage, r.ExitCode);
    }
}
