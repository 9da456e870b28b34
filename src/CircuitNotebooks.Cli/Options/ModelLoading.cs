using CircuitNotebooks.Cli.Infrastructure;
using CircuitNotebooks.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Cli.Options;

/// <summary>--model / --device / --dtype: checks them and loads the model with messages that name the option.</summary>
public static class ModelLoading
{
    public static readonly string[] DTypes = ["float32", "float64", "bfloat16", "float16"];

    public static Device ParseDevice(string device)
    {
        switch (device)
        {
            case "cpu": return CPU;
            case "cuda":
                if (!cuda.is_available())
                    throw new CliException(ExitCodes.Usage, "--device cuda: no CUDA device is available to TorchSharp (this build uses the cpu backend unless built with -p:TorchBackend=cuda).");
                return CUDA;
            default: throw CliException.Usage($"--device must be cpu or cuda (got '{device}').");
        }
    }

    public static ScalarType ParseDType(string dtype) => dtype switch
    {
        "float32" or "fp32" => ScalarType.Float32,
        "float64" or "fp64" => ScalarType.Float64,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" => ScalarType.Float16,
        _ => throw CliException.Usage($"--dtype must be one of {string.Join(", ", DTypes)} (got '{dtype}')."),
    };

    /// <summary>Cheap checks before anything is written: the folder exists and has config.json and weights.</summary>
    public static void Check(string directory)
    {
        try { HfDirectory.Open(directory); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw CliException.BadInput($"--model '{directory}': {e.Message}", e);
        }
    }

    public static HookedTransformer Load(string directory, Device device, ScalarType dtype, bool requireTokenizer = true)
    {
        Check(directory);
        HookedTransformer model;
        try { model = HookedTransformer.FromPretrained(directory, device, dtype); }
        catch (Exception e) when (e is not OperationCanceledException && !CliErrors.IsDiskFull(e))
        {
            throw CliException.BadInput($"--model '{directory}' could not be loaded: {e.Message}", e);
        }
        if (requireTokenizer && model.Tokenizer is null)
        {
            model.Dispose();
            throw CliException.BadInput($"--model '{directory}': no tokenizer files (tokenizer.json, or vocab.json + merges.txt).");
        }
        return model;
    }
}

