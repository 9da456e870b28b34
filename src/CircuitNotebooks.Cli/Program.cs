using System.CommandLine;
using CircuitNotebooks.Cli;

CircuitNotebooks.Native.TorchNativeLoader.Install();
var root = new RootCommand("CircuitNotebooks: circuits, patching and fine-tuning dynamics for transformers in .NET.");
foreach (var cmd in Commands.All()) root.Subcommands.Add(cmd);
return await root.Parse(args).InvokeAsync();
