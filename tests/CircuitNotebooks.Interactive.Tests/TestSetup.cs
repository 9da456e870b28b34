using System.Runtime.CompilerServices;

namespace CircuitNotebooks.Interactive.Tests;

internal static class TestSetup
{
    // Tensor formatter tests touch TorchSharp before any engine type: install the native fix first.
    [ModuleInitializer]
    internal static void Init() => CircuitNotebooks.Native.TorchNativeLoader.Install();
}
