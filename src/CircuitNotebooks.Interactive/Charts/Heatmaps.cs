using System.Globalization;
using Plotly.NET;
using CsChart = Plotly.NET.CSharp.Chart;

namespace CircuitNotebooks.Interactive.Charts;

/// <summary>
/// Heatmaps of per-component scores (patching effects, attributions). Values are diverging: the colour scale is
/// symmetric about 0 (zmin = −max|v|, zmax = +max|v|) so white always means "no effect".
/// Row 0 is drawn at the top, as in TransformerLens/imshow plots.
/// </summary>
public static class Heatmaps
{
    /// <summary>
    /// General diverging heatmap: <paramref name="values"/>[row, column] with one label per row and column.
    /// NaN cells are left blank.
    /// </summary>
    public static GenericChart Diverging(double[,] values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels,
                                         string title, string xTitle, string yTitle, string colorbarTitle = "")
    {
        ArgumentNullException.ThrowIfNull(values);
        var (rows, cols) = (values.GetLength(0), values.GetLength(1));
        if (rowLabels.Count != rows)
            throw new ArgumentException($"rowLabels has {rowLabels.Count} labels but values has {rows} rows (shape [{rows}, {cols}])", nameof(rowLabels));
        if (columnLabels.Count != cols)
            throw new ArgumentException($"columnLabels has {columnLabels.Count} labels but values has {cols} columns (shape [{rows}, {cols}])", nameof(columnLabels));
        var limit = SymmetricLimit(values);
        var z = ToRows(values);
        var chart = CsChart.Heatmap<double, string, string, string>(
            zData: Placeholder(z), X: Labels.Unique(columnLabels), Y: Labels.Unique(rowLabels), ReverseYAxis: true);
        PlotlyProps.Traces(chart, t =>
        {
            t.SetProperty("z", z); // null (not NaN) is plotly's blank cell

            t.SetProperty("colorscale", ChartColors.Diverging);
            t.SetProperty("zmin", -limit);
            t.SetProperty("zmax", limit);
            t.SetProperty("zmid", 0.0);
            t.SetProperty("colorbar", new { title = new { text = colorbarTitle } });
            t.SetProperty("hovertemplate", "%{y} · %{x}<br>%{z:.4g}<extra></extra>");
        });
        return PlotlyProps.Layout(chart, l =>
        {
            PlotlyProps.Titles(l, title, xTitle, yTitle);
            PlotlyProps.Axis(l, "xaxis").SetProperty("type", "category");
            PlotlyProps.Axis(l, "yaxis").SetProperty("type", "category");
            // Cells ≥ ~50 px wide after margins and colorbar, and room for the whole title (~8 px per character).
            var width = PlotlyProps.FitTitle(Math.Clamp(260 + 60 * cols, 520, 1100), title);
            PlotlyProps.Size(l, width, Math.Clamp(180 + 44 * rows, 340, 900));
        });
    }

    /// <summary>values[layer, position], e.g. a residual-stream patching sweep; <paramref name="tokens"/> label positions.</summary>
    public static GenericChart LayerByPosition(double[,] values, IReadOnlyList<string> tokens, string title = "Effect by layer and position",
                                               string colorbarTitle = "effect") =>
        Diverging(values, LayerLabels(values.GetLength(0)), Labels.Tokens(tokens), title, "position", "layer", colorbarTitle);

    /// <summary>values[layer, head], e.g. head attribution or head patching.</summary>
    public static GenericChart LayerByHead(double[,] values, string title = "Effect by layer and head", string colorbarTitle = "effect") =>
        Diverging(values, LayerLabels(values.GetLength(0)),
                  Enumerable.Range(0, values.GetLength(1)).Select(h => "H" + h.ToString(CultureInfo.InvariantCulture)).ToArray(),
                  title, "head", "layer", colorbarTitle);

    /// <summary>max |v| over finite cells, or 1 when there are none or all are zero (a flat map still draws).</summary>
    public static double SymmetricLimit(double[,] values)
    {
        var max = 0.0;
        foreach (var v in values)
            if (double.IsFinite(v)) max = Math.Max(max, Math.Abs(v));
        return max > 0 ? max : 1.0;
    }

    internal static string[] LayerLabels(int n) => Enumerable.Range(0, n).Select(l => "L" + l.ToString(CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Plotly.NET.CSharp needs non-nullable z; the real (nullable) z is set on the trace afterwards.</summary>
    internal static double[][] Placeholder(double?[][] z) => z.Select(r => r.Select(v => v ?? 0).ToArray()).ToArray();

    internal static double?[][] ToRows(double[,] values)
    {
        var (rows, cols) = (values.GetLength(0), values.GetLength(1));
        var z = new double?[rows][];
        for (var r = 0; r < rows; r++)
        {
            z[r] = new double?[cols];
            for (var c = 0; c < cols; c++) z[r][c] = double.IsFinite(values[r, c]) ? values[r, c] : null;
        }
        return z;
    }
}
