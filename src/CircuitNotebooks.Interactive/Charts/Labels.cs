using System.Globalization;

namespace CircuitNotebooks.Interactive.Charts;

/// <summary>Axis labels. plotly merges equal category labels, so repeated tokens must be made distinct.</summary>
public static class Labels
{
    /// <summary>Token labels as "i:token" with whitespace made visible (a leading space is part of a GPT-2 token).</summary>
    public static string[] Tokens(IReadOnlyList<string> tokens) =>
        tokens.Select((t, i) => i.ToString(CultureInfo.InvariantCulture) + ":" + Visible(t)).ToArray();

    /// <summary>Labels unchanged when distinct; otherwise each repeat gets a " (n)" suffix.</summary>
    public static string[] Unique(IReadOnlyList<string> labels)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new string[labels.Count];
        for (var i = 0; i < labels.Count; i++)
        {
            var label = labels[i];
            seen[label] = seen.TryGetValue(label, out var n) ? n + 1 : 1;
            result[i] = seen[label] == 1 ? label : $"{label} ({seen[label]})";
        }
        return result;
    }

    internal static string Visible(string token) =>
        token.Replace(" ", "·", StringComparison.Ordinal).Replace("\n", "⏎", StringComparison.Ordinal).Replace("\t", "⇥", StringComparison.Ordinal);
}
