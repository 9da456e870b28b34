namespace CircuitNotebooks.Circuits;

/// <summary>How edges are ranked: by |score| (EAP-IG default) or by signed score (most positive first).</summary>
public enum ScoreRanking { Absolute, Signed }
