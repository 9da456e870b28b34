using System.Globalization;
using System.Text.Json.Nodes;

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
    public static Chart Diverging(double[,] values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels,
                                  string title, string xTitle, string yTitle, string colorbarTitle = "")
    {
        ArgumentNullException.ThrowIfNull(values);
        var (rows, cols) = (values.GetLength(0), values.GetLength(1));
        if (rowLabels.Count != rows)
            throw new ArgumentException($"rowLabels has {rowLabels.Count} labels but values has {rows} rows (shape [{rows}, {cols}])", nameof(rowLabels));
        if (columnLabels.Count != cols)
            throw new ArgumentException($"columnLabels has {columnLabels.Count} labels but values has {cols} columns (shape [{rows}, {cols}])", nameof(columnLabels));
        var limit = SymmetricLimit(values);
        var chart = Grid(values, Labels.Unique(rowLabels), Labels.Unique(columnLabels), ChartColors.Diverging, -limit, limit, colorbarTitle,
                         "%{y} · %{x}<br>%{z:.4g}<extra></extra>");
        ((JsonObject)chart.Data[0]!)["zmid"] = 0.0;
        PlotlyProps.Titles(chart.Layout, title, xTitle, yTitle);
        // Cells ≥ ~50 px wide after margins and colorbar, and room for the whole title (~8 px per character).
        var width = PlotlyProps.FitTitle(Math.Clamp(260 + 60 * cols, 520, 1100), title);
        PlotlyProps.Size(chart.Layout, width, Math.Clamp(180 + 44 * rows, 340, 900));
        return chart;
    }

    /// <summary>values[layer, position], e.g. a residual-stream patching sweep; <paramref name="tokens"/> label positions.</summary>
    public static Chart LayerByPosition(double[,] values, IReadOnlyList<string> tokens, string title = "Effect by layer and position",
                                        string colorbarTitle = "effect") =>
        Diverging(values, LayerLabels(values.GetLength(0)), Labels.Tokens(tokens), title, "position", "layer", colorbarTitle);

    /// <summary>values[layer, head], e.g. head attribution or head patching.</summary>
    public static Chart LayerByHead(double[,] values, string title = "Effect by layer and head", string colorbarTitle = "effect") =>
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

    /// <summary>One heatmap trace on category axes, row 0 at the top.</summary>
    internal static Chart Grid(double[,] values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, JsonArray colorscale,
                               double zmin, double zmax, string colorbarTitle, string hovertemplate)
    {
        var chart = new Chart().Add(new JsonObject
        {
            ["type"] = "heatmap",
            ["z"] = PlotlyProps.Matrix(values), // null (not NaN) is plotly's blank cell
            ["x"] = PlotlyProps.Strings(columnLabels),
            ["y"] = PlotlyProps.Strings(rowLabels),
            ["colorscale"] = colorscale,
            ["zmin"] = zmin,
            ["zmax"] = zmax,
            ["colorbar"] = new JsonObject { ["title"] = new JsonObject { ["text"] = colorbarTitle } },
            ["hovertemplate"] = hovertemplate,
        });
        PlotlyProps.Axis(chart.Layout, "xaxis")["type"] = "category";
        var y = PlotlyProps.Axis(chart.Layout, "yaxis");
        y["type"] = "category";
        y["autorange"] = "reversed";
        return chart;
    }
}
