using CircuitNotebooks.Interactive.Runner;

namespace CircuitNotebooks.Interactive.Tests.Notebooks;

internal static class Nb05CircuitLoRa
{
    public static NotebookBuilder Build() => new NotebookBuilder().Markdown("# 05").Code(NotebookSources.Setup).Parameters("string modelDir = \"\"; string device = \"cpu\"; string outDir = \"out\";");
}
