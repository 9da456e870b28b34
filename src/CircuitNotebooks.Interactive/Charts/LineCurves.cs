using Plotly.NET;
using CsChart = Plotly.NET.CSharp.Chart;

namespace CircuitNotebooks.Interactive.Charts;

/// <summary>One named curve: y values aligned with the chart's shared x values.</summary>
public sealed record CurveSeries(string Name, IReadOnlyList<double> Y, bool Dashed = false);

/// <summary>Curves over a shared x axis: similarity over checkpoints, faithfulness vs edge budget, training curves.</summary>
public static class LineCurves
{
    /// <summary>Several series over the same x values (lines with markers; NaN leaves a gap).</summary>
    public static GenericChart Create(IReadOnlyList<double> x, IReadOnlyList<CurveSeries> series, string title, string xTitle, string yTitle,
                                      bool logX = false) => Create(x, series, title, xTitle, yTitle, logX, colorOffset: 0);

    private static GenericChart Create(IReadOnlyList<double> x, IReadOnlyList<CurveSeries> series, string title, string xTitle, string yTitle,
                                       bool logX, int colorOffset)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (series.Count == 0) throw new ArgumentException("at least one series is required", nameof(series));
        var charts = new List<GenericChart>();
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            if (s.Y.Count != x.Count)
                throw new ArgumentException($"series '{s.Name}' has {s.Y.Count} values but x has {x.Count}", nameof(series));
            var color = Color.fromString(ChartColors.Series[(i + colorOffset) % ChartColors.Series.Length]);
            var line = CsChart.Line<double, double, string>(
                x: x, y: s.Y.Select(v => double.IsFinite(v) ? v : 0), ShowMarkers: true, Name: s.Name,
                LineColor: color, MarkerColor: color,
                LineDash: s.Dashed ? StyleParam.DrawingStyle.Dash : StyleParam.DrawingStyle.Solid);
            // null, not NaN, is plotly's gap; NaN would be serialised as the string "NaN".
            var y = s.Y.Select(v => double.IsFinite(v) ? v : (double?)null).ToArray();
            charts.Add(PlotlyProps.Traces(line, t => t.SetProperty("y", y)));
        }
        var chart = CsChart.Combine(charts);
        return PlotlyProps.Layout(chart, l =>
        {
            PlotlyProps.Titles(l, title, xTitle, yTitle);
            if (logX) PlotlyProps.Axis(l, "xaxis").SetProperty("type", "log");
            PlotlyProps.Size(l, 760, 440);
        });
    }

    /// <summary>Node vs edge overlap between each checkpoint's circuit and the final one (y in [0, 1]).</summary>
    public static GenericChart SimilarityOverCheckpoints(IReadOnlyList<double> checkpoints, IReadOnlyList<double> nodeSimilarity,
                                                         IReadOnlyList<double> edgeSimilarity, string title = "Circuit similarity over fine-tuning",
                                                         string xTitle = "checkpoint (step)") =>
        YRange(Create(checkpoints, [new("node similarity", nodeSimilarity), new("edge similarity", edgeSimilarity, Dashed: true)],
                      title, xTitle, "similarity"), 0, 1.05);

    /// <summary>Faithfulness of the top-n circuit as n grows, optionally one curve per method (EAP, EAP-IG, …).</summary>
    public static GenericChart FaithfulnessVsEdgeBudget(IReadOnlyList<double> edgeCounts, IReadOnlyList<CurveSeries> methods,
                                                        string title = "Faithfulness vs edge budget", bool logX = true) =>
        Create(edgeCounts, methods, title, "edges in circuit", "faithfulness", logX);

    /// <summary>Loss and accuracy over steps, stacked in two panels sharing the step axis. Either may be null.</summary>
    public static GenericChart TrainingCurves(IReadOnlyList<double> steps, IReadOnlyList<double>? loss, IReadOnlyList<double>? accuracy,
                                              string title = "Training", IReadOnlyList<double>? evalLoss = null)
    {
        if (loss == null && accuracy == null) throw new ArgumentException("give loss, accuracy or both");
        var panels = new List<GenericChart>();
        var titles = new List<string>();
        if (loss != null)
        {
            var lossSeries = new List<CurveSeries> { new("train loss", loss) };
            if (evalLoss != null) lossSeries.Add(new("eval loss", evalLoss, Dashed: true));
            panels.Add(Create(steps, lossSeries, title, "step", "loss"));
            titles.Add("loss");
        }
        if (accuracy != null)
        {
            panels.Add(Create(steps, [new("accuracy", accuracy)], title, "step", "accuracy", logX: false, colorOffset: 2));
            titles.Add("accuracy");
        }
        if (panels.Count == 1) return panels[0];
        var grid = CsChart.Grid(panels, nRows: panels.Count, nCols: 1, SubPlotTitles: titles);
        return PlotlyProps.Layout(grid, l =>
        {
            l.SetProperty("title", new { text = title, x = 0.02 });
            // Grid keeps only one panel's axis titles: set each panel's own.
            for (var p = 0; p < panels.Count; p++)
            {
                var suffix = p == 0 ? "" : (p + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                PlotlyProps.Axis(l, "yaxis" + suffix).SetProperty("title", new { text = titles[p] });
                PlotlyProps.Axis(l, "xaxis" + suffix).SetProperty("title", new { text = p == panels.Count - 1 ? "step" : "" });
            }
            PlotlyProps.Size(l, 760, 300 * panels.Count + 80);
        });
    }

    private static GenericChart YRange(GenericChart chart, double min, double max) =>
        PlotlyProps.Layout(chart, l => PlotlyProps.Axis(l, "yaxis").SetProperty("range", new[] { min, max }));
}
