using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CircuitNotebooks.Cli.Notebooks;

/// <summary>
/// Papermill-style parameter overrides. Each value is converted to the type its variable is declared with in the
/// cell tagged <c>parameters</c> (so "0.5" overrides a double and "200" an int) and declared again in a cell injected
/// right after it.
/// </summary>
public static class NotebookParameters
{
    public const string Tag = "parameters";
    public const string InjectedTag = "injected-parameters";

    /// <summary>Parses "name=value" pairs (CLI form); values stay strings until matched with the declared type.</summary>
    public static IReadOnlyDictionary<string, string> Parse(IEnumerable<string> assignments)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var a in assignments)
        {
            var eq = a.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ArgumentException($"parameter '{a}' is not of the form name=value");
            var name = a[..eq].Trim();
            if (!SyntaxFacts.IsValidIdentifier(name)) throw new ArgumentException($"parameter name '{name}' is not a C# identifier");
            result[name] = a[(eq + 1)..];
        }
        return result;
    }

    /// <summary>Variables the parameters cell declares, with their C# type keyword (<c>var</c> resolved from the literal).</summary>
    public static IReadOnlyDictionary<string, string> Declared(string parametersSource)
    {
        var tree = CSharpSyntaxTree.ParseText(parametersSource, CSharpParseOptions.Default.WithKind(SourceCodeKind.Script));
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var declaration in tree.GetRoot().DescendantNodes().OfType<VariableDeclarationSyntax>())
            foreach (var v in declaration.Variables)
                result[v.Identifier.ValueText] = declaration.Type.IsVar ? TypeOfLiteral(v.Initializer?.Value) : declaration.Type.ToString();
        return result;
    }

    /// <summary>The injected cell: one declaration per override, typed as in the parameters cell.</summary>
    public static string Injection(string parametersSource, IReadOnlyDictionary<string, string> overrides, string notebook)
    {
        var declared = Declared(parametersSource);
        var lines = new List<string> { "// Parameters injected by circuitnb notebook run" };
        foreach (var (name, value) in overrides.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!declared.TryGetValue(name, out var type))
                throw new ArgumentException($"{notebook}: parameter '{name}' is not declared in the cell tagged '{Tag}'; declared: {string.Join(", ", declared.Keys.Order())}");
            lines.Add($"{type} {name} = {Literal(name, type, value)};");
        }
        return string.Join("\n", lines);
    }

    private static string TypeOfLiteral(ExpressionSyntax? value) => value switch
    {
        LiteralExpressionSyntax { Token.Value: string } => "string",
        LiteralExpressionSyntax { Token.Value: bool } => "bool",
        LiteralExpressionSyntax { Token.Value: int } => "int",
        LiteralExpressionSyntax { Token.Value: long } => "long",
        LiteralExpressionSyntax { Token.Value: double } => "double",
        LiteralExpressionSyntax { Token.Value: float } => "float",
        PrefixUnaryExpressionSyntax { Operand: var o } => TypeOfLiteral(o),
        _ => "var",
    };

    /// <summary>A C# literal of <paramref name="type"/> for the text <paramref name="value"/>; a clear error when it does not parse.</summary>
    internal static string Literal(string name, string type, string value)
    {
        var inv = CultureInfo.InvariantCulture;
        var nullable = type.EndsWith('?');
        var core = nullable ? type[..^1] : type;
        if (nullable && value == "null") return "null";
        try
        {
            return core switch
            {
                "string" => SymbolDisplay.FormatLiteral(value, quote: true),
                "bool" => bool.Parse(value) ? "true" : "false",
                "int" => int.Parse(value, NumberStyles.Integer, inv).ToString(inv),
                "long" => long.Parse(value, NumberStyles.Integer, inv).ToString(inv) + "L",
                "double" => Double(double.Parse(value, NumberStyles.Float, inv)),
                "float" => "(float)" + Double(float.Parse(value, NumberStyles.Float, inv)),
                "decimal" => decimal.Parse(value, NumberStyles.Float, inv).ToString(inv) + "m",
                _ => throw new ArgumentException($"parameter '{name}' is declared as {type}; only string, bool, int, long, double, float and decimal parameters can be overridden"),
            };
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new ArgumentException($"parameter '{name}': cannot convert '{value}' to {type}: {e.Message}", e);
        }

        static string Double(double d) =>
            double.IsNaN(d) ? "double.NaN" : double.IsPositiveInfinity(d) ? "double.PositiveInfinity"
            : double.IsNegativeInfinity(d) ? "double.NegativeInfinity" : d.ToString("R", CultureInfo.InvariantCulture) + "d";
    }
}
