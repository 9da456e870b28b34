using CircuitNotebooks.Circuits;
using Xunit;

namespace CircuitNotebooks.Tests.Circuits;

public class PythonCircuitFormatTests
{
    private static readonly CircuitGraph G = new(3, 2, true);

    [Fact]
    public void ExportThenImportIsIdentity()
    {
        var c = CircuitPruning.Prune(CircuitSelection.TopN(TestCircuits.RandomScores(G, 11), 30)).Circuit;
        var back = PythonCircuitFormat.Import(PythonCircuitFormat.Export(c, dModel: 64));
        Assert.Equal(EdgeGranularity.Qkv, back.Granularity);
        Assert.True(back.Graph.SameShape(G));
        Assert.Equal(c.Scores, back.Scores);
        Assert.Equal(c.EdgeMask, back.EdgeMask);
        Assert.Equal(c.NodeMask, back.NodeMask);
    }

    [Fact]
    public void HeadLevelExportThenImportIsIdentity()
    {
        var c = CircuitSelection.TopN(TestCircuits.RandomScores(G, 12), 30);
        var head = HeadLevelView.Collapse(c);
        var json = PythonCircuitFormat.Export(c, EdgeGranularity.Head);
        Assert.Contains("\"a0.h1->a1.h0\":", json);
        Assert.DoesNotContain("<q>", json);
        var back = PythonCircuitFormat.Import(json);
        Assert.Equal(EdgeGranularity.Head, back.Granularity);
        Assert.Equal(head.Scores, back.Scores);
        Assert.Equal(head.EdgeMask, back.EdgeMask);
    }

    [Fact]
    public void HandWrittenLibraryJsonParses()
    {
        const string json = """
        {"cfg": {"n_layers": 2, "n_heads": 2, "parallel_attn_mlp": false, "d_model": 8, "d_vocab": 10},
         "nodes": {"input": true, "a0.h1": true, "m0": true, "a1.h0": false, "logits": true},
         "edges": {
           "input->a0.h1<q>": {"score": 0.5, "in_graph": true},
           "a0.h1->m0": {"score": -1.25, "in_graph": true},
           "m0->logits": {"score": 2.0, "in_graph": true},
           "a0.h1->a1.h0<k>": {"score": 0.125, "in_graph": false},
           "input->logits": {"score": null, "in_graph": false}
         }}
        """;
        var c = PythonCircuitFormat.Import(json);
        Assert.Equal(EdgeGranularity.Qkv, c.Granularity);
        Assert.Equal(new HashSet<string> { "input->a0.h1<q>", "a0.h1->m0", "m0->logits" }, TestCircuits.EdgeNames(c));
        Assert.Equal(0.5f, c.Score(0, 1));                       // a0.h1<q> is backward index 0*2 + 1
        Assert.Equal(-1.25f, c.Score(2, 6));                     // a0.h1 = forward 2, m0 input = 3*2 = 6
        Assert.Equal(0.125f, c.Score(2, 1 * 7 + 1 * 2 + 0));     // a1.h0<k> = 7 + K*2 + 0
        Assert.Equal(0f, c.Score(0, 14));                        // null score
        Assert.Equal(new HashSet<string> { "input", "a0.h1", "m0", "logits" }, c.NodesInCircuit().ToHashSet());
    }

    [Theory]
    [InlineData("a9.h0->logits", "a9.h0")]
    [InlineData("input->a0.h7<v>", "input->a0.h7<v>")]
    [InlineData("m1->m0", "m1->m0")]
    public void BadEdgeKeyIsNamed(string key, string mentioned)
    {
        var json = """{"cfg": {"n_layers": 2, "n_heads": 2, "parallel_attn_mlp": false}, "nodes": {}, "edges": {"KEY": {"score": 1, "in_graph": true}}}"""
            .Replace("KEY", key);
        var ex = Assert.Throws<InvalidDataException>(() => PythonCircuitFormat.Import(json, source: "released.json"));
        Assert.Contains(key, ex.Message);
        Assert.Contains(mentioned, ex.Message);
        Assert.Contains("released.json", ex.Message);
    }

    [Fact]
    public void MixedFormsAreRejected()
    {
        const string json = """{"cfg": {"n_layers": 2, "n_heads": 1}, "edges": {"input->a1.h0<q>": {"score": 1, "in_graph": true}, "a0.h0->a1.h0": {"score": 1, "in_graph": true}}}""";
        Assert.Throws<InvalidDataException>(() => PythonCircuitFormat.Import(json));
    }
}
