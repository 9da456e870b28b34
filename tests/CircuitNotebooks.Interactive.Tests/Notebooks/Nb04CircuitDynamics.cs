using CircuitNotebooks.Interactive.Runner;

namespace CircuitNotebooks.Interactive.Tests.Notebooks;

internal static class Nb04CircuitDynamics
{
    public static NotebookBuilder Build() => new NotebookBuilder().Markdown("# 04").Code(NotebookSources.Setup).Parameters("string modelDir = \"\"; string device = \"cpu\"; string outDir = \"out\";");
}
