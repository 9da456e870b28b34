using System.Runtime.CompilerServices;

namespace CircuitNotebooks.Cli.Tests;

internal static class TestSetup
{
    [ModuleInitializer]
    internal static void Init()
    {
        CircuitNotebooks.Native.TorchNativeLoader.Install();
        // Tiny test models: one thread beats OpenMP hand-offs, and is far faster on a loaded machine.
        TorchSharp.torch.set_num_threads(1);
    }
}
