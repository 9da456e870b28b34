using CircuitNotebooks.Interactive.Runner;

namespace CircuitNotebooks.Interactive.Tests.Notebooks;

internal static class Nb03CircuitDiscovery
{
    public static NotebookBuilder Build() => new NotebookBuilder().Markdown("# 03").Code(NotebookSources.Setup).Parameters("string modelDir = \"\"; string device = \"cpu\"; string outDir = \"out\";");
}
