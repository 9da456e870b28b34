using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>
/// One torch thread for small models on CPU while alive (at d_model ≤ 256 threading costs more than it gains, and
/// OpenMP workers spin-wait badly on a shared machine); restores the previous count on dispose.
/// </summary>
public sealed class TorchThreads : IDisposable
{
    /// <summary>Largest d_model that runs on one thread.</summary>
    public const int SingleThreadMaxDModel = 256;

    private readonly int _previous = get_num_threads();

    private TorchThreads(bool single)
    {
        if (single) set_num_threads(1);
    }

    /// <summary>The rule for this model: one thread when it is a tiny model on the CPU, otherwise unchanged.</summary>
    public static TorchThreads For(HookedTransformer model) =>
        new(model.Device.type == TorchSharp.DeviceType.CPU && model.Config.DModel <= SingleThreadMaxDModel);

    /// <summary>One thread regardless of the model.</summary>
    public static TorchThreads Single() => new(true);

    public void Dispose() => set_num_threads(_previous);
}
