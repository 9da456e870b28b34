using System.Runtime.InteropServices;
using CircuitNotebooks.Cli;
using CircuitNotebooks.Cli.Infrastructure;

CircuitNotebooks.Native.TorchNativeLoader.Install();
// Reuse freed tensor memory instead of faulting in fresh pages on every step (see NativeAllocator for the trade-off).
if (Environment.GetEnvironmentVariable("CIRCUITNB_DEFAULT_MALLOC") != "1") CircuitNotebooks.Native.NativeAllocator.RetainFreedMemory();
using var cts = new CancellationTokenSource();
var ctx = CliContext.ForConsole();
// First Ctrl+C / SIGTERM: stop after the current step with finished work saved; a second Ctrl+C kills at once.
Console.CancelKeyPress += (_, e) =>
{
    if (cts.IsCancellationRequested) return;
    e.Cancel = true;
    ctx.Error.WriteLine("stopping after the current step (Ctrl+C again to abort at once)…");
    cts.Cancel();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cts.Cancel(); });
return await CliApp.InvokeAsync(args, ctx, cts.Token);
