using CircuitNotebooks.Models;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CircuitNotebooks.Circuits;

/// <summary>
/// Reads and writes the JSON of the Python EAP-IG library (<c>Graph.to_json</c>):
/// <c>{"cfg": {"n_layers", "n_heads", "parallel_attn_mlp", "d_model"?}, "nodes": {name: bool},
/// "edges": {"a0.h1-&gt;a2.h3&lt;q&gt;": {"score": float|null, "in_graph": bool}}}</c>.
/// Edge keys use the q/k/v form (<c>a0.h1-&gt;a2.h3&lt;q&gt;</c>) or the head-level form (<c>a0.h1-&gt;a2.h3</c>);
/// the form is detected from the keys (a file without any edge into a head reads as q/k/v). Null scores and
/// missing edges read as 0 and out of the circuit. The node set is the file's in-graph nodes plus the endpoints of
/// in-graph edges (the Python library keeps these consistent; a file that does not is repaired, not rejected).
/// </summary>
public static class PythonCircuitFormat
{
    public static Circuit Load(string path, CircuitMetadata? metadata = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"circuit file not found: {path}", path);
        return Import(File.ReadAllText(path), metadata, path);
    }

    public static void Save(Circuit circuit, string path, EdgeGranularity? granularity = null,
        CollapseMode collapse = CollapseMode.Absolute, int? dModel = null) =>
        AtomicFile.WriteAllText(path, Export(circuit, granularity, collapse, dModel));

    public static Circuit Import(string json, CircuitMetadata? metadata = null, string source = "EAP-IG json")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException ex) { throw new InvalidDataException($"{source}: not valid JSON ({ex.Message}).", ex); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: top level must be an object.");
            var graph = ReadCfg(root, source);
            if (!root.TryGetProperty("edges", out var edgesEl) || edgesEl.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{source}: field 'edges' is missing or not an object.");

            var parsed = new List<(string Key, int Forward, string Destination, JsonElement Value)>();
            bool anyQkv = false, anyHeadLevel = false;
            foreach (var prop in edgesEl.EnumerateObject())
            {
                var key = prop.Name;
                int arrow = key.IndexOf("->", StringComparison.Ordinal);
                if (arrow < 0) throw new InvalidDataException($"{source}: edge key '{key}' has no '->'.");
                string srcName = key[..arrow], dstName = key[(arrow + 2)..];
                if (!graph.TryForwardIndex(srcName, out int f))
                    throw new InvalidDataException($"{source}: edge '{key}': unknown source node '{srcName}' for graph {graph.ShapeKey}.");
                bool qkv = dstName.EndsWith("<q>") || dstName.EndsWith("<k>") || dstName.EndsWith("<v>");
                var bare = qkv ? dstName[..^3] : dstName;
                if (!graph.TryNodeIndex(bare, out int dstNode) || dstNode == graph.InputNode)
                    throw new InvalidDataException($"{source}: edge '{key}': unknown destination '{dstName}' for graph {graph.ShapeKey}.");
                if (qkv && graph.KindOf(dstNode) != NodeKind.Head)
                    throw new InvalidDataException($"{source}: edge '{key}': only attention heads have <q>/<k>/<v> inputs.");
                if (qkv) anyQkv = true;
                else if (graph.KindOf(dstNode) == NodeKind.Head) anyHeadLevel = true;
                parsed.Add((key, f, dstName, prop.Value));
            }
            if (anyQkv && anyHeadLevel)
                throw new InvalidDataException($"{source}: edges mix q/k/v keys ('…<q>') and head-level keys into heads; use one form.");

            var layout = graph.At(anyHeadLevel ? EdgeGranularity.Head : EdgeGranularity.Qkv);
            var scores = new float[layout.DenseLength];
            var edges = new bool[layout.DenseLength];
            foreach (var (key, f, dstName, value) in parsed)
            {
                int d = layout.Granularity == EdgeGranularity.Qkv ? graph.BackwardIndexOf(dstName) : NodeId(graph, dstName);
                if (!layout.IsRealEdge(f, d))
                    throw new InvalidDataException($"{source}: edge '{key}' is not an edge of graph {graph.ShapeKey} (the source does not feed that input).");
                int i = layout.EdgeIndex(f, d);
                (scores[i], edges[i]) = ReadEdgeValue(value, key, source);
            }

            var nodes = Circuit.NodesOf(layout, edges);
            if (root.TryGetProperty("nodes", out var nodesEl) && nodesEl.ValueKind == JsonValueKind.Object)
                foreach (var prop in nodesEl.EnumerateObject())
                {
                    if (!graph.TryNodeIndex(prop.Name, out int n))
                        throw new InvalidDataException($"{source}: node '{prop.Name}' is not a node of graph {graph.ShapeKey}.");
                    nodes[n] |= ReadNodeValue(prop.Value, prop.Name, source);
                }
            return Circuit.Create(layout, scores, edges, nodes, metadata ?? new CircuitMetadata { Method = "EAP-IG (python import)" });
        }
    }

    /// <summary>
    /// Writes every real edge with its score and membership, and every node. <paramref name="granularity"/> Head on a
    /// Qkv circuit collapses it with <paramref name="collapse"/> first; Qkv from a Head circuit is impossible.
    /// </summary>
    public static string Export(Circuit circuit, EdgeGranularity? granularity = null, CollapseMode collapse = CollapseMode.Absolute, int? dModel = null)
    {
        var target = granularity ?? circuit.Granularity;
        if (target == EdgeGranularity.Qkv && circuit.Granularity == EdgeGranularity.Head)
            throw new ArgumentException("a head-level circuit cannot be exported in q/k/v form: its q/k/v split is unknown.", nameof(granularity));
        if (target == EdgeGranularity.Head) circuit = HeadLevelView.Collapse(circuit, collapse);

        var graph = circuit.Graph;
        var layout = circuit.Graph;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("cfg");
            w.WriteNumber("n_layers", graph.NLayers);
            w.WriteNumber("n_heads", graph.NHeads);
            w.WriteBoolean("parallel_attn_mlp", graph.ParallelAttnMlp);
            if (dModel is { } dm) w.WriteNumber("d_model", dm);
            w.WriteEndObject();
            w.WriteStartObject("nodes");
            for (int n = 0; n < graph.NodeCount; n++) w.WriteBoolean(graph.NodeNames[n], circuit.NodeArray[n]);
            w.WriteEndObject();
            w.WriteStartObject("edges");
            foreach (var i in layout.RealEdges())
            {
                w.WriteStartObject(layout.EdgeName(i));
                w.WriteNumber("score", circuit.ScoreArray[i]);
                w.WriteBoolean("in_graph", circuit.EdgeArray[i]);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        // Relaxed escaping keeps '->' and '<q>' readable, as Python's json.dump writes them.
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static CircuitGraph ReadCfg(JsonElement root, string source)
    {
        if (!root.TryGetProperty("cfg", out var cfg) || cfg.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{source}: field 'cfg' is missing or not an object.");
        int ReadInt(string name) =>
            cfg.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int x) && x > 0 ? x
            : throw new InvalidDataException($"{source}: field 'cfg.{name}' is missing or not a positive integer.");
        bool parallel = false;
        if (cfg.TryGetProperty("parallel_attn_mlp", out var p))
            parallel = p.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False or JsonValueKind.Null => false,
                _ => throw new InvalidDataException($"{source}: field 'cfg.parallel_attn_mlp' must be a boolean."),
            };
        return new CircuitGraph(ReadInt("n_layers"), ReadInt("n_heads"), parallel);
    }

    private static (float Score, bool InGraph) ReadEdgeValue(JsonElement v, string key, string source)
    {
        if (v.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: edge '{key}': value must be an object with 'score' and 'in_graph'.");
        float score = 0;
        if (v.TryGetProperty("score", out var s) && s.ValueKind != JsonValueKind.Null)
        {
            if (s.ValueKind != JsonValueKind.Number || !float.IsFinite(s.GetSingle()))
                throw new InvalidDataException($"{source}: edge '{key}': 'score' must be a finite number or null.");
            score = s.GetSingle();
        }
        bool inGraph = false;
        if (v.TryGetProperty("in_graph", out var g))
            inGraph = g.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new InvalidDataException($"{source}: edge '{key}': 'in_graph' must be a boolean."),
            };
        return (score, inGraph);
    }

    private static bool ReadNodeValue(JsonElement v, string name, string source) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        // Some library versions store node objects; accept {"in_graph": bool}.
        JsonValueKind.Object when v.TryGetProperty("in_graph", out var g) && g.ValueKind is JsonValueKind.True or JsonValueKind.False
            => g.ValueKind == JsonValueKind.True,
        _ => throw new InvalidDataException($"{source}: node '{name}': value must be a boolean."),
    };

    private static int NodeId(CircuitGraph graph, string name) => graph.TryNodeIndex(name, out int n) ? n : -1;
}
