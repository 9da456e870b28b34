using CircuitNotebooks.Models;
using static TorchSharp.torch;

namespace CircuitNotebooks.Patching;

/// <summary>An attention head, named as in EAP-IG circuits (<c>a{layer}.h{head}</c>).</summary>
public readonly record struct AttentionHead(int Layer, int Head)
{
    public override string ToString() => $"a{Layer}.h{Head}";
}

/// <summary>
/// A head at one named token position of each row (a role of <see cref="PromptBatch.Positions"/>, e.g. "last"), or at
/// every position when <see cref="Position"/> is null. Circuits of Prakash et al. are sets of sites: the same head can
/// matter at the last token and not at the query label.
/// </summary>
public sealed record HeadSite(int Layer, int Head, string? Position = null)
{
    public AttentionHead AsHead => new(Layer, Head);
    public override string ToString() => Position is null ? $"a{Layer}.h{Head}" : $"a{Layer}.h{Head}@{Position}";
}

/// <summary>
/// Prompts with one answer token each (<see cref="Labels"/>, read at the last real token), plus named per-row token
/// positions (roles): the engine-side view of a task batch whose interesting tokens sit at different indices per row.
/// Owns copies of its tensors; dispose to free them.
/// </summary>
public sealed class PromptBatch : IDisposable
{
    /// <summary>Role added to every batch: the last real token of each row (where the answer is read).</summary>
    public const string Last = "last";

    private readonly Dictionary<string, int[]> _positions;

    /// <param name="tokens">[b, p] int64.</param>
    /// <param name="attentionMask">[b, p], 1 = real token (right or left padding), or null.</param>
    /// <param name="labels">Answer token per row.</param>
    /// <param name="positions">Role → token index per row; each must be a real token of its row.</param>
    public PromptBatch(Tensor tokens, Tensor? attentionMask, long[] labels, IReadOnlyDictionary<string, int[]>? positions = null)
    {
        if (tokens.dim() != 2 || tokens.dtype != ScalarType.Int64)
            throw new ArgumentException($"tokens must be int64 [batch, pos], got {tokens.dtype} [{string.Join(", ", tokens.shape)}].", nameof(tokens));
        if (attentionMask is not null && !attentionMask.shape.SequenceEqual(tokens.shape))
            throw new ArgumentException($"attentionMask [{string.Join(", ", attentionMask.shape)}] differs from tokens [{string.Join(", ", tokens.shape)}].", nameof(attentionMask));
        Rows = (int)tokens.shape[0];
        Length = (int)tokens.shape[1];
        if (labels.Length != Rows)
            throw new ArgumentException($"{labels.Length} labels for {Rows} rows.", nameof(labels));
        Tokens = tokens.detach().clone().DetachFromDisposeScope();
        AttentionMask = attentionMask?.detach().to_type(ScalarType.Int64).clone().DetachFromDisposeScope();
        Labels = labels.ToArray();
        var real = RealTokens();
        _positions = new Dictionary<string, int[]>(StringComparer.Ordinal);
        using (NewDisposeScope())
            _positions[Last] = Metric.AnswerPositions(AttentionMask, Rows, Length, CPU).data<long>().Select(v => (int)v).ToArray();
        foreach (var (role, pos) in positions ?? new Dictionary<string, int[]>())
        {
            if (pos.Length != Rows)
                throw new ArgumentException($"Position role '{role}' has {pos.Length} entries for {Rows} rows.", nameof(positions));
            for (int r = 0; r < Rows; r++)
                if (pos[r] < 0 || pos[r] >= Length || !real[r, pos[r]])
                    throw new ArgumentException($"Position role '{role}', row {r}: index {pos[r]} is not a real token (length {Length}).", nameof(positions));
            if (role == Last && !pos.SequenceEqual(_positions[Last]))
                throw new ArgumentException($"Role '{Last}' is reserved for the last real token of each row.", nameof(positions));
            _positions[role] = pos.ToArray();
        }
    }

    public Tensor Tokens { get; }
    public Tensor? AttentionMask { get; }
    public long[] Labels { get; }
    public int Rows { get; }
    public int Length { get; }
    public IReadOnlyDictionary<string, int[]> Positions => _positions;

    /// <summary>Token index of <paramref name="role"/> in each row.</summary>
    public int[] PositionsOf(string role) => _positions.TryGetValue(role, out var p)
        ? p
        : throw new KeyNotFoundException($"This batch has no position role '{role}'. Roles: {string.Join(", ", _positions.Keys)}.");

    /// <summary>A new batch of the given rows (in that order), roles included.</summary>
    public PromptBatch Select(IReadOnlyList<int> rows)
    {
        foreach (var r in rows)
            if (r < 0 || r >= Rows) throw new ArgumentOutOfRangeException(nameof(rows), $"Row {r} is outside the batch of {Rows}.");
        using var scope = NewDisposeScope();
        var idx = tensor(rows.Select(r => (long)r).ToArray(), dtype: ScalarType.Int64, device: Tokens.device);
        var roles = _positions.Where(kv => kv.Key != Last).ToDictionary(kv => kv.Key, kv => rows.Select(r => kv.Value[r]).ToArray());
        return new PromptBatch(Tokens.index_select(0, idx), AttentionMask?.index_select(0, idx.to(AttentionMask.device)),
            rows.Select(r => Labels[r]).ToArray(), roles);
    }

    /// <summary>Rows [start, start + count).</summary>
    public PromptBatch Slice(int start, int count) => Select(Enumerable.Range(start, Math.Min(count, Rows - start)).ToArray());

    /// <summary>1 when the answer-position argmax is the label.</summary>
    public Metric AccuracyMetric() => Metric.Accuracy(Labels, AttentionMask);

    /// <summary>Accuracy of the unpatched model on this batch.</summary>
    public double Accuracy(HookedTransformer model)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return AccuracyMetric().Evaluate(model.Forward(Tokens, AttentionMask));
    }

    /// <summary>Rows whose answer-position argmax is the label (circuits explain behaviour the model has).</summary>
    public int[] CorrectRows(HookedTransformer model)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var ok = AccuracyMetric().PerExample(model.Forward(Tokens, AttentionMask)).to(CPU).to_type(ScalarType.Float32).data<float>().ToArray();
        return Enumerable.Range(0, Rows).Where(r => ok[r] > 0.5f).ToArray();
    }

    /// <summary>[b, p, 1, 1]-style one-hot of a role's positions as a bool tensor [b, p].</summary>
    internal Tensor OneHot(string role, Device device)
    {
        var pos = PositionsOf(role);
        var data = new bool[Rows * Length];
        for (int r = 0; r < Rows; r++) data[r * Length + pos[r]] = true;
        return tensor(data, [Rows, Length], dtype: ScalarType.Bool, device: device);
    }

    private bool[,] RealTokens()
    {
        var real = new bool[Rows, Length];
        if (AttentionMask is null)
        {
            for (int r = 0; r < Rows; r++)
            for (int p = 0; p < Length; p++) real[r, p] = true;
            return real;
        }
        var m = AttentionMask.to(CPU).data<long>().ToArray();
        for (int r = 0; r < Rows; r++)
        for (int p = 0; p < Length; p++) real[r, p] = m[r * Length + p] != 0;
        return real;
    }

    public void Dispose()
    {
        Tokens.Dispose();
        AttentionMask?.Dispose();
    }
}
