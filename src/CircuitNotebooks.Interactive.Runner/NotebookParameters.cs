using System.Globalization;
using Microsoft.CodeAnalysis.CSharp;

namespace CircuitNotebooks.Interactive.Runner;

/// <summary>
/// Papermill-style parameter overrides. Values are converted to the type the parameters cell gave each variable
/// (so "0.5" overrides a double and "200" an int), and injected as a cell right after the parameters cell.
/// </summary>
public static class NotebookParameters
{
    /// <summary>Parses "name=value" pairs (CLI form); values stay strings until matched with the declared type.</summary>
    public static IReadOnlyDictionary<string, object?> Parse(IEnumerable<string> assignments)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
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

    /// <summary>A C# statement declaring <paramref name="name"/> as <paramref name="type"/> with <paramref name="value"/>.</summary>
    public static string Declaration(string name, Type type, object? value)
    {
        var converted = Convert(name, type, value);
        return $"{TypeName(type)} {name} = {Literal(converted, type)};";
    }

    internal static object? Convert(string name, Type type, object? value)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (value == null)
        {
            if (type.IsValueType && Nullable.GetUnderlyingType(type) == null)
                throw new ArgumentException($"parameter '{name}' is {TypeName(type)} and cannot be null");
            return null;
        }
        try
        {
            if (target.IsInstanceOfType(value)) return value;
            if (target.IsEnum) return value is string s ? Enum.Parse(target, s, ignoreCase: true) : Enum.ToObject(target, value);
            if (target == typeof(bool) && value is string b) return bool.Parse(b);
            return System.Convert.ChangeType(value, target, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException or ArgumentException)
        {
            throw new ArgumentException($"parameter '{name}': cannot convert '{value}' to {TypeName(type)}: {e.Message}", e);
        }
    }

    internal static string TypeName(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } inner) return TypeName(inner) + "?";
        return type switch
        {
            _ when type == typeof(int) => "int",
            _ when type == typeof(long) => "long",
            _ when type == typeof(short) => "short",
            _ when type == typeof(byte) => "byte",
            _ when type == typeof(double) => "double",
            _ when type == typeof(float) => "float",
            _ when type == typeof(decimal) => "decimal",
            _ when type == typeof(bool) => "bool",
            _ when type == typeof(string) => "string",
            _ when type.IsEnum => "global::" + type.FullName!.Replace('+', '.'),
            _ => throw new ArgumentException(
                $"parameters of type {type} cannot be overridden (supported: numbers, bool, string, enums)"),
        };
    }

    internal static string Literal(object? value, Type type)
    {
        var inv = CultureInfo.InvariantCulture;
        return value switch
        {
            null => "null",
            string s => SymbolDisplay.FormatLiteral(s, quote: true),
            bool b => b ? "true" : "false",
            double d when double.IsNaN(d) => "double.NaN",
            double d when double.IsPositiveInfinity(d) => "double.PositiveInfinity",
            double d when double.IsNegativeInfinity(d) => "double.NegativeInfinity",
            double d => d.ToString("R", inv) + "d",
            float f when !float.IsFinite(f) => $"(float){Literal((double)f, typeof(double))}",
            float f => f.ToString("R", inv) + "f",
            decimal m => m.ToString(inv) + "m",
            long l => l.ToString(inv) + "L",
            int i => i.ToString(inv),
            short or byte => $"({TypeName(value.GetType())}){System.Convert.ToString(value, inv)}",
            Enum e => $"({TypeName(type)}){System.Convert.ToInt64(e, inv).ToString(inv)}",
            _ => throw new ArgumentException($"no C# literal for {value.GetType()}"),
        };
    }
}
