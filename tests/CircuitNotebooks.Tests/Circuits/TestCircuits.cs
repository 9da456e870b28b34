using CircuitNotebooks.Circuits;
using CircuitNotebooks.Models;

namespace CircuitNotebooks.Tests.Circuits;

/// <summary>Configs and hand-built circuits shared by the circuit tests.</summary>
internal static class TestCircuits
{
    public static ModelConfig Gpt2Small => new()
    {
        Architecture = Architecture.Gpt2, NLayers = 12, DModel = 768, NHeads = 12, DMlp = 3072, DVocab = 50257, NCtx = 1024,
    };

    public static ModelConfig Pythia1_4B => new()
    {
        Architecture = Architecture.GptNeoX, NLayers = 24, DModel = 2048, NHeads = 16, DMlp = 8192, DVocab = 50304,
        Rotary = true, RotaryDim = 32, ParallelAttnMlp = true,
    };

    /// <summary>Edges of the EAP-IG graph enumerated from the block semantics by name, without CircuitGraph.</summary>
    public static List<(string Src, string Dst)> NaiveEdges(int nLayers, int nHeads, bool parallel)
    {
        var upstream = new List<string> { "input" };
        var edges = new List<(string, string)>();
        for (int l = 0; l < nLayers; l++)
        {
            var heads = Enumerable.Range(0, nHeads).Select(h => $"a{l}.h{h}").ToList();
            foreach (var head in heads)
                foreach (var x in new[] { "q", "k", "v" })
                    foreach (var u in upstream) edges.Add((u, $"{head}<{x}>"));
            var mlpUpstream = parallel ? upstream : [.. upstream, .. heads];
            foreach (var u in mlpUpstream) edges.Add((u, $"m{l}"));
            upstream.AddRange(heads);
            upstream.Add($"m{l}");
        }
        foreach (var u in upstream) edges.Add((u, "logits"));
        return edges;
    }

    /// <summary>A Qkv circuit with the named edges in the circuit (and their scores) plus extra out-of-circuit scores.</summary>
    public static Circuit FromNamed(CircuitGraph graph, IReadOnlyDictionary<string, float> inCircuit,
        IReadOnlyDictionary<string, float>? otherScores = null, CircuitMetadata? metadata = null)
    {
        var layout = graph;
        var scores = new float[layout.DenseLength];
        var edges = new bool[layout.DenseLength];
        int Index(string name)
        {
            var parts = name.Split("->");
            return graph.ForwardIndexOf(parts[0]) * graph.BackwardCount + graph.BackwardIndexOf(parts[1]);
        }
        foreach (var (name, s) in inCircuit) { scores[Index(name)] = s; edges[Index(name)] = true; }
        foreach (var (name, s) in otherScores ?? new Dictionary<string, float>()) scores[Index(name)] = s;
        return Circuit.Create(layout, scores, edges, null, metadata);
    }

    /// <summary>Seeded scores on every real edge of a small graph, distinct magnitudes, mixed signs.</summary>
    public static Circuit RandomScores(CircuitGraph graph, int seed)
    {
        var rng = new Random(seed);
        var scores = new float[graph.ForwardCount * graph.BackwardCount];
        for (int i = 0; i < scores.Length; i++) scores[i] = (float)(rng.NextDouble() * 2 - 1);
        return Circuit.FromScores(graph, scores, new CircuitMetadata { Task = "t", ModelFingerprint = "fp" });
    }

    public static HashSet<string> EdgeNames(Circuit c) => c.EdgesInCircuit().Select(e => e.Name).ToHashSet();
}
