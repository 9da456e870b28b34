using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using CircuitNotebooks.Models;

namespace CircuitNotebooks.Circuits;

/// <summary>
/// The kit's own circuit file (JSON, schema <see cref="Schema"/> v<see cref="SchemaVersion"/>): graph shape,
/// provenance, in-circuit nodes, in-circuit edges with scores, optionally every score (row-major) so selection can
/// be redone after loading. Without <c>all_scores</c>, out-of-circuit edges load with score 0.
/// </summary>
public static class CircuitFile
{
    public const string Schema = "circuitnotebooks.circuit";
    public const int SchemaVersion = 1;

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // keep '->' and '<q>' readable
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static void Save(Circuit circuit, string path, bool includeAllScores = false) =>
        AtomicFile.WriteAllText(path, ToJson(circuit, includeAllScores));

    /// <summary>Loads and, when <paramref name="expectedModel"/> is given, checks the circuit belongs to it.</summary>
    public static Circuit Load(string path, ModelConfig? expectedModel = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"circuit file not found: {path}", path);
        var circuit = FromJson(File.ReadAllText(path), path);
        if (expectedModel is not null) EnsureMatches(circuit, expectedModel, path);
        return circuit;
    }

    /// <summary>
    /// Throws <see cref="CircuitModelMismatchException"/> naming both fingerprints if the circuit was made for another
    /// model. Circuits without a model fingerprint (Python imports) are checked by graph shape.
    /// </summary>
    public static void EnsureMatches(Circuit circuit, ModelConfig model, string source = "circuit")
    {
        if (circuit.Metadata.ModelFingerprint is { } fp)
        {
            if (fp != model.Fingerprint) throw new CircuitModelMismatchException(fp, model.Fingerprint, source);
        }
        var shape = CircuitGraph.FromConfig(model).ShapeKey;
        if (circuit.Graph.ShapeKey != shape) throw new CircuitModelMismatchException(circuit.Graph.ShapeKey, shape, source);
    }

    public static string ToJson(Circuit circuit, bool includeAllScores = false)
    {
        var m = circuit.Metadata;
        var dto = new FileDto
        {
            Schema = Schema,
            SchemaVersion = SchemaVersion,
            Graph = new GraphDto { NLayers = circuit.Graph.NLayers, NHeads = circuit.Graph.NHeads, ParallelAttnMlp = circuit.Graph.ParallelAttnMlp },
            Granularity = circuit.Granularity == EdgeGranularity.Qkv ? "qkv" : "head",
            ModelFingerprint = m.ModelFingerprint, Task = m.Task, Method = m.Method, Metric = m.Metric,
            Label = m.Label, IgSteps = m.IgSteps, Faithfulness = m.Faithfulness, CreatedAt = m.CreatedAt,
            Nodes = [.. circuit.NodesInCircuit()],
            Edges = [.. circuit.EdgesInCircuit().Select(e => new EdgeDto { Edge = e.Name, Score = e.Score })],
            AllScores = includeAllScores ? circuit.CopyScores() : null,
        };
        return JsonSerializer.Serialize(dto, Options);
    }

    public static Circuit FromJson(string json, string source = "circuit json")
    {
        FileDto? dto;
        try { dto = JsonSerializer.Deserialize<FileDto>(json, Options); }
        catch (JsonException ex) { throw new InvalidDataException($"{source}: not valid circuit JSON ({ex.Message}).", ex); }
        if (dto is null) throw new InvalidDataException($"{source}: empty document.");
        if (dto.Schema != Schema) throw new InvalidDataException($"{source}: field 'schema' is '{dto.Schema}', expected '{Schema}'.");
        if (dto.SchemaVersion != SchemaVersion)
            throw new InvalidDataException($"{source}: field 'schema_version' is {dto.SchemaVersion}; this build reads version {SchemaVersion}.");
        if (dto.Graph is null) throw new InvalidDataException($"{source}: field 'graph' is missing.");

        CircuitGraph graph;
        try { graph = new CircuitGraph(dto.Graph.NLayers, dto.Graph.NHeads, dto.Graph.ParallelAttnMlp); }
        catch (ArgumentException ex) { throw new InvalidDataException($"{source}: field 'graph': {ex.Message}", ex); }
        var granularity = dto.Granularity switch
        {
            "qkv" => EdgeGranularity.Qkv,
            "head" => EdgeGranularity.Head,
            _ => throw new InvalidDataException($"{source}: field 'granularity' is '{dto.Granularity}', expected 'qkv' or 'head'."),
        };
        var layout = graph.At(granularity);

        float[] scores;
        if (dto.AllScores is { } all)
        {
            if (all.Length != layout.DenseLength)
                throw new InvalidDataException($"{source}: field 'all_scores' has {all.Length} entries, expected {layout.DenseLength} for {graph.ShapeKey} {granularity}.");
            scores = all;
        }
        else scores = new float[layout.DenseLength];

        var names = EdgeNameIndex.Build(layout);
        var edges = new bool[layout.DenseLength];
        foreach (var e in dto.Edges ?? [])
        {
            if (e.Edge is null || !names.TryGetValue(e.Edge, out int i))
                throw new InvalidDataException($"{source}: edge '{e.Edge}' is not an edge of graph {graph.ShapeKey} ({granularity}).");
            edges[i] = true;
            if (dto.AllScores is null) scores[i] = e.Score;
        }
        var nodes = new bool[graph.NodeCount];
        foreach (var n in dto.Nodes ?? [])
        {
            if (n is null || !graph.TryNodeIndex(n, out int k))
                throw new InvalidDataException($"{source}: node '{n}' is not a node of graph {graph.ShapeKey}.");
            nodes[k] = true;
        }
        var metadata = new CircuitMetadata
        {
            ModelFingerprint = dto.ModelFingerprint, Task = dto.Task, Method = dto.Method, Metric = dto.Metric,
            Label = dto.Label, IgSteps = dto.IgSteps, Faithfulness = dto.Faithfulness, CreatedAt = dto.CreatedAt ?? default,
        };
        try { return Circuit.Create(layout, scores, edges, nodes, metadata); }
        catch (ArgumentException ex) { throw new InvalidDataException($"{source}: {ex.Message}", ex); }
    }

    private sealed class FileDto
    {
        [JsonPropertyName("schema")] public string? Schema { get; set; }
        [JsonPropertyName("schema_version")] public int SchemaVersion { get; set; }
        [JsonPropertyName("graph")] public GraphDto? Graph { get; set; }
        [JsonPropertyName("granularity")] public string? Granularity { get; set; }
        [JsonPropertyName("model_fingerprint")] public string? ModelFingerprint { get; set; }
        [JsonPropertyName("task")] public string? Task { get; set; }
        [JsonPropertyName("method")] public string? Method { get; set; }
        [JsonPropertyName("metric")] public string? Metric { get; set; }
        [JsonPropertyName("label")] public string? Label { get; set; }
        [JsonPropertyName("ig_steps")] public int? IgSteps { get; set; }
        [JsonPropertyName("faithfulness")] public double? Faithfulness { get; set; }
        [JsonPropertyName("created_at")] public DateTimeOffset? CreatedAt { get; set; }
        [JsonPropertyName("nodes")] public string?[]? Nodes { get; set; }
        [JsonPropertyName("edges")] public EdgeDto[]? Edges { get; set; }
        [JsonPropertyName("all_scores")] public float[]? AllScores { get; set; }
    }

    private sealed class GraphDto
    {
        [JsonPropertyName("n_layers")] public int NLayers { get; set; }
        [JsonPropertyName("n_heads")] public int NHeads { get; set; }
        [JsonPropertyName("parallel_attn_mlp")] public bool ParallelAttnMlp { get; set; }
    }

    private sealed class EdgeDto
    {
        [JsonPropertyName("edge")] public string? Edge { get; set; }
        [JsonPropertyName("score")] public float Score { get; set; }
    }
}
