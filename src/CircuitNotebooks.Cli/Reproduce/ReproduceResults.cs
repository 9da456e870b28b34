using CircuitNotebooks.Circuits;

namespace CircuitNotebooks.Cli.Reproduce;

/// <summary>Base model facts shared by every method: accuracy and the base circuit's faithfulness vs edge budget.</summary>
public sealed record BaseResult(double Accuracy, IReadOnlyList<int> Budgets, IReadOnlyList<double> Curve, string Metric, int TrainExamples, int TestExamples, int ProbeExamples);

/// <summary>What one fine-tuning method produced (stored as results/&lt;method&gt;.json; circuits live beside it).</summary>
public sealed record MethodResult(
    string Method, double AccuracyBefore, double AccuracyAfter, long TrainableParameters, double TrainableRatio,
    IReadOnlyList<int> Steps, IReadOnlyList<double> Losses, IReadOnlyList<double> FinalCurve,
    IReadOnlyList<int>? CriticalLayers, int? OtherRank, int? CriticalRank, IReadOnlyList<double>? LayerEdgeChange, int Seed);

/// <summary>A method's result with its circuit series (index 0 = base model).</summary>
public sealed record MethodRun(MethodResult Result, IReadOnlyList<StoredCircuit> Circuits)
{
    public string Method => Result.Method;
    public IReadOnlyList<int> Steps => Result.Steps;
    public string RunId => IdFor(Method, Result.Seed, FirstSeed);
    /// <summary>Set by the pipeline: the first seed's runs keep the method's plain name (folders, CSVs).</summary>
    public int FirstSeed { get; init; } = Result.Seed;

    /// <summary>"lora" for the first seed, "lora-seed43" for later ones (folder and file names).</summary>
    public static string IdFor(string method, int seed, int firstSeed) => seed == firstSeed ? method : $"{method}-seed{seed}";
}

/// <summary>Union of the composite task's sub-task circuits vs the composite task's own circuit (base model).</summary>
public sealed record CompositionResult(
    string Composite, IReadOnlyList<string> SubTasks, double CompositeFaithfulness, double UnionFaithfulness,
    IReadOnlyList<double> SubTaskFaithfulness, double NodeJaccard, double EdgeJaccard, int CompositeEdges, int UnionEdges,
    int CompositeNodes, int UnionNodes, IReadOnlyList<int> Budgets, IReadOnlyList<double> CompositeCurve, IReadOnlyList<double> UnionCurve);

/// <summary>Everything a reproduce run found.</summary>
public sealed record ReproduceResult(ReproduceSettings Settings, BaseResult Base, StoredCircuit BaseCircuit,
    IReadOnlyList<MethodRun> Runs, CompositionResult? Composition, string OutputDirectory)
{
    public string ReportPath => Path.Combine(OutputDirectory, "report.html");
}
