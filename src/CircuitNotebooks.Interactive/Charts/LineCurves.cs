using System.Globalization;
using System.Text.Json.Nodes;

namespace CircuitNotebooks.Interactive.Charts;

/// <summary>One named curve: y values aligned with the chart's shared x values.</summary>
public sealed record CurveSeries(string Name, IReadOnlyList<double> Y, bool Dashed = false);

/// <summary>One named curve with its own x values (points of a scaling curve, a fitted line).</summary>
public sealed record XySeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, bool Dashed = false, bool Markers = true);

/// <summary>Curves over a shared x axis: similarity over checkpoints, faithfulness vs edge budget, training curves.</summary>
public static class LineCurves
{
    /// <summary>Several series over the same x values (lines with markers; NaN leaves a gap).</summary>
    public static Chart Create(IReadOnlyList<double> x, IReadOnlyList<CurveSeries> series, string title, string xTitle, string yTitle,
                               bool logX = false)
    {
        var chart = new Chart();
        AddCurves(chart, x, series, colorOffset: 0);
        PlotlyProps.Titles(chart.Layout, title, xTitle, yTitle);
        if (logX) PlotlyProps.Axis(chart.Layout, "xaxis")["type"] = "log";
        PlotlyProps.Size(chart.Layout, 760, 440);
        return chart;
    }

    /// <summary>Series with their own x values on logarithmic x and y axes (cost and memory against model size).</summary>
    public static Chart LogLog(IReadOnlyList<XySeries> series, string title, string xTitle, string yTitle)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0) throw new ArgumentException("at least one series is required", nameof(series));
        var chart = new Chart();
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            if (s.X.Count != s.Y.Count)
                throw new ArgumentException($"series '{s.Name}' has {s.X.Count} x values but {s.Y.Count} y values", nameof(series));
            chart.Add(Line(s.Name, s.X, s.Y, ChartColors.Series[i % ChartColors.Series.Length], s.Dashed, s.Markers));
        }
        PlotlyProps.Titles(chart.Layout, title, xTitle, yTitle);
        PlotlyProps.Axis(chart.Layout, "xaxis")["type"] = "log";
        PlotlyProps.Axis(chart.Layout, "yaxis")["type"] = "log";
        PlotlyProps.Size(chart.Layout, 760, 440);
        return chart;
    }

    private static JsonObject Line(string name, IReadOnlyList<double> x, IReadOnlyList<double> y, string color, bool dashed, bool markers) => new()
    {
        ["type"] = "scatter",
        ["mode"] = markers ? "lines+markers" : "lines",
        ["name"] = name,
        ["x"] = PlotlyProps.Numbers(x),
        ["y"] = PlotlyProps.Numbers(y),
        ["line"] = new JsonObject { ["color"] = color, ["dash"] = dashed ? "dash" : "solid" },
        ["marker"] = new JsonObject { ["color"] = color },
    };

    private static void AddCurves(Chart chart, IReadOnlyList<double> x, IReadOnlyList<CurveSeries> series, int colorOffset,
                                  string? xAxis = null, string? yAxis = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0) throw new ArgumentException("at least one series is required", nameof(series));
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            if (s.Y.Count != x.Count)
                throw new ArgumentException($"series '{s.Name}' has {s.Y.Count} values but x has {x.Count}", nameof(series));
            var trace = Line(s.Name, x, s.Y, ChartColors.Series[(i + colorOffset) % ChartColors.Series.Length], s.Dashed, markers: true);
            if (xAxis != null) trace["xaxis"] = xAxis;
            if (yAxis != null) trace["yaxis"] = yAxis;
            chart.Add(trace);
        }
    }

    /// <summary>Node vs edge overlap between each checkpoint's circuit and a reference one (y in [0, 1]).</summary>
    public static Chart SimilarityOverCheckpoints(IReadOnlyList<double> checkpoints, IReadOnlyList<double> nodeSimilarity,
                                                  IReadOnlyList<double> edgeSimilarity, string title = "Circuit similarity over fine-tuning",
                                                  string xTitle = "checkpoint (step)")
    {
        var chart = Create(checkpoints, [new("node similarity", nodeSimilarity), new("edge similarity", edgeSimilarity, Dashed: true)],
                           title, xTitle, "similarity");
        PlotlyProps.Axis(chart.Layout, "yaxis")["range"] = new JsonArray(0, 1.05);
        return chart;
    }

    /// <summary>Faithfulness of the top-n circuit as n grows, optionally one curve per method (EAP, EAP-IG, …).</summary>
    public static Chart FaithfulnessVsEdgeBudget(IReadOnlyList<double> edgeCounts, IReadOnlyList<CurveSeries> methods,
                                                 string title = "Faithfulness vs edge budget", bool logX = true) =>
        Create(edgeCounts, methods, title, "edges in circuit", "faithfulness", logX);

    /// <summary>Loss and accuracy over steps, stacked in two panels sharing the step axis. Either may be null.</summary>
    public static Chart TrainingCurves(IReadOnlyList<double> steps, IReadOnlyList<double>? loss, IReadOnlyList<double>? accuracy,
                                       string title = "Training", IReadOnlyList<double>? evalLoss = null)
    {
        if (loss == null && accuracy == null) throw new ArgumentException("give loss, accuracy or both");
        var panels = new List<(string Y, IReadOnlyList<CurveSeries> Series, int Colors)>();
        if (loss != null)
        {
            var lossSeries = new List<CurveSeries> { new("train loss", loss) };
            if (evalLoss != null) lossSeries.Add(new("eval loss", evalLoss, Dashed: true));
            panels.Add(("loss", lossSeries, 0));
        }
        if (accuracy != null) panels.Add(("accuracy", [new("accuracy", accuracy)], 2));

        var chart = new Chart();
        PlotlyProps.Titles(chart.Layout, title, null, null);
        for (var p = 0; p < panels.Count; p++)
        {
            var suffix = p == 0 ? "" : (p + 1).ToString(CultureInfo.InvariantCulture);
            AddCurves(chart, steps, panels[p].Series, panels[p].Colors, "x" + suffix, "y" + suffix);
            PlotlyProps.Axis(chart.Layout, "yaxis" + suffix)["title"] = new JsonObject { ["text"] = panels[p].Y };
            PlotlyProps.Axis(chart.Layout, "xaxis" + suffix)["title"] = new JsonObject { ["text"] = p == panels.Count - 1 ? "step" : "" };
        }
        if (panels.Count > 1)
            chart.Layout["grid"] = new JsonObject { ["rows"] = panels.Count, ["columns"] = 1, ["pattern"] = "independent" };
        PlotlyProps.Size(chart.Layout, 760, panels.Count == 1 ? 440 : 300 * panels.Count + 80);
        return chart;
    }
}
