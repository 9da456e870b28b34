using System.Globalization;

namespace CircuitNotebooks.Patching;

/// <summary>
/// A grid of patching effects with labelled axes — what the grid methods of <see cref="ActivationPatching"/> and
/// <see cref="PathPatching.SenderSweep"/> compute, packaged for display (a heatmap in a notebook) and export.
/// <c>Values[row, column]</c>; rows are usually layers.
/// </summary>
[TypeFormatterSource(typeof(SummaryFormatterSource))]
public sealed record PatchingResult : ISummarizable
{
    public PatchingResult(string title, double[,] values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels,
        string rowAxis, string columnAxis, string metric)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (rowLabels.Count != values.GetLength(0))
            throw new ArgumentException($"rowLabels has {rowLabels.Count} labels, values has {values.GetLength(0)} rows.", nameof(rowLabels));
        if (columnLabels.Count != values.GetLength(1))
            throw new ArgumentException($"columnLabels has {columnLabels.Count} labels, values has {values.GetLength(1)} columns.", nameof(columnLabels));
        Title = title;
        Values = values;
        RowLabels = rowLabels;
        ColumnLabels = columnLabels;
        RowAxis = rowAxis;
        ColumnAxis = columnAxis;
        Metric = metric;
    }

    public string Title { get; }
    public double[,] Values { get; }
    public IReadOnlyList<string> RowLabels { get; }
    public IReadOnlyList<string> ColumnLabels { get; }
    public string RowAxis { get; }
    public string ColumnAxis { get; }
    /// <summary>Name of the metric the values are in (e.g. "logit_diff").</summary>
    public string Metric { get; }

    public int Rows => Values.GetLength(0);
    public int Columns => Values.GetLength(1);
    public double this[int row, int column] => Values[row, column];

    /// <summary>[layers, positions] grid (resid stream, attn_out, mlp_out) with the prompt's tokens as columns.</summary>
    public static PatchingResult LayerByPosition(double[,] values, IReadOnlyList<string> tokens, string title, string metric) =>
        new(title, values, LayerLabels(values.GetLength(0)), tokens, "layer", "position", metric);

    /// <summary>[layers, heads] grid (head outputs, q/k/v, patterns, path-patching sender sweeps).</summary>
    public static PatchingResult LayerByHead(double[,] values, string title, string metric) =>
        new(title, values, LayerLabels(values.GetLength(0)),
            Enumerable.Range(0, values.GetLength(1)).Select(h => "H" + h.ToString(CultureInfo.InvariantCulture)).ToArray(), "layer", "head", metric);

    /// <summary>The cell with the largest |value| (first in row-major order on ties; NaN cells skipped).</summary>
    public (int Row, int Column, double Value) Strongest()
    {
        (int, int, double) best = (-1, -1, double.NaN);
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Columns; c++)
            {
                double v = Values[r, c];
                if (!double.IsNaN(v) && (best.Item1 < 0 || Math.Abs(v) > Math.Abs(best.Item3))) best = (r, c, v);
            }
        return best;
    }

    public ResultSummary Summarize()
    {
        var (r, c, v) = Strongest();
        return ResultSummary.Create(Title)
            .Add("grid", $"{Rows} {RowAxis}s × {Columns} {ColumnAxis}s")
            .Add("metric", Metric)
            .Add("strongest", r < 0 ? null : $"{RowAxis} {Label(RowAxis, RowLabels, r)}, {ColumnAxis} {Label(ColumnAxis, ColumnLabels, c)} → {v.ToString("G4", CultureInfo.InvariantCulture)}")
            .Build();
    }

    // Positions are labelled by their token, which may be any symbol: show the index and the quoted token.
    private static string Label(string axis, IReadOnlyList<string> labels, int i) =>
        axis == "position" ? $"{i} '{labels[i]}'" : labels[i];

    private static string[] LayerLabels(int n) => Enumerable.Range(0, n).Select(l => "L" + l.ToString(CultureInfo.InvariantCulture)).ToArray();
}
