namespace CircuitNotebooks.Hooks;

[TypeFormatterSource(typeof(SummaryFormatterSource))]
public sealed partial class ActivationCache : ISummarizable
{
    /// <summary>Entry count, total size, and the first and last names.</summary>
    public ResultSummary Summarize()
    {
        long elements = _store.Values.Sum(t => t.numel());
        long bytes = _store.Values.Sum(t => t.numel() * t.ElementSize);
        var b = ResultSummary.Create("ActivationCache")
            .Add("entries", Count)
            .Add("values", elements)
            .Add("memory", $"{bytes / 1048576.0:F2} MiB");
        if (Count > 0) b.Add("names", $"{_store.Keys.First()} … {_store.Keys.Last()}");
        return b.Build();
    }
}
