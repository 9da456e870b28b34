using CircuitNotebooks.Interactive.Runner;

namespace CircuitNotebooks.Interactive.Tests.Notebooks;

internal static class Nb06Compositional
{
    public static NotebookBuilder Build() => new NotebookBuilder().Markdown("# 06").Code(NotebookSources.Setup).Parameters("string modelDir = \"\"; string device = \"cpu\"; string outDir = \"out\";");
}
