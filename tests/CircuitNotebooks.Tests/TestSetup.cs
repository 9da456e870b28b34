using System.Runtime.CompilerServices;

namespace CircuitNotebooks.Tests;

internal static class TestSetup
{
    // Tests may touch TorchSharp before any engine type; install the native fix first.
    [ModuleInitializer]
    internal static void Init()
    {
        CircuitNotebooks.Native.TorchNativeLoader.Install();
        // Tiny test models: one thread is faster than OpenMP hand-offs, and far faster on a loaded machine.
        TorchSharp.torch.set_num_threads(1);
    }
}
