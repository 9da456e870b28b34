using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace CircuitNotebooks.Interactive.Runner;

/// <summary>
/// Just enough Markdown for notebook prose: headings, paragraphs, bullet and numbered lists, fenced code, inline
/// code, bold, italic and links. Everything is HTML-escaped first, so markdown cannot inject markup; math is left
/// as typed.
/// </summary>
public static partial class SimpleMarkdown
{
    [GeneratedRegex(@"^(#{1,6})\s+(.*)$")] private static partial Regex Heading();
    [GeneratedRegex(@"^\s*[-*+]\s+(.*)$")] private static partial Regex Bullet();
    [GeneratedRegex(@"^\s*\d+[.)]\s+(.*)$")] private static partial Regex Numbered();
    [GeneratedRegex(@"`([^`]+)`")] private static partial Regex InlineCode();
    [GeneratedRegex(@"\*\*(.+?)\*\*")] private static partial Regex Bold();
    [GeneratedRegex(@"(?<![\*\w])\*(?!\s)(.+?)(?<!\s)\*(?![\*\w])")] private static partial Regex Italic();
    [GeneratedRegex(@"\[([^\]]+)\]\(([^)\s]+)\)")] private static partial Regex Link();

    public static string ToHtml(string markdown)
    {
        var html = new StringBuilder();
        var paragraph = new List<string>();
        string? list = null;
        var inFence = false;
        var fence = new StringBuilder();

        void CloseParagraph()
        {
            if (paragraph.Count == 0) return;
            html.Append("<p>").Append(string.Join(" ", paragraph.Select(Inline))).Append("</p>\n");
            paragraph.Clear();
        }

        void CloseList()
        {
            if (list == null) return;
            html.Append("</").Append(list).Append(">\n");
            list = null;
        }

        void ListItem(string tag, string text)
        {
            CloseParagraph();
            if (list != tag)
            {
                CloseList();
                html.Append('<').Append(tag).Append(">\n");
                list = tag;
            }
            html.Append("<li>").Append(Inline(text)).Append("</li>\n");
        }

        foreach (var raw in markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            if (raw.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                if (inFence)
                {
                    html.Append("<pre class=\"cn-pre\"><code>").Append(WebUtility.HtmlEncode(fence.ToString().TrimEnd('\n'))).Append("</code></pre>\n");
                    fence.Clear();
                    inFence = false;
                }
                else
                {
                    CloseParagraph();
                    CloseList();
                    inFence = true;
                }
                continue;
            }
            if (inFence)
            {
                fence.Append(raw).Append('\n');
                continue;
            }
            if (raw.Trim().Length == 0)
            {
                CloseParagraph();
                CloseList();
                continue;
            }
            if (Heading().Match(raw) is { Success: true } h)
            {
                CloseParagraph();
                CloseList();
                var level = h.Groups[1].Value.Length;
                html.Append($"<h{level}>").Append(Inline(h.Groups[2].Value.Trim())).Append($"</h{level}>\n");
            }
            else if (Bullet().Match(raw) is { Success: true } b) ListItem("ul", b.Groups[1].Value);
            else if (Numbered().Match(raw) is { Success: true } n) ListItem("ol", n.Groups[1].Value);
            else
            {
                CloseList();
                paragraph.Add(raw.Trim());
            }
        }
        if (inFence) html.Append("<pre class=\"cn-pre\"><code>").Append(WebUtility.HtmlEncode(fence.ToString().TrimEnd('\n'))).Append("</code></pre>\n");
        CloseParagraph();
        CloseList();
        return html.ToString();
    }

    private static string Inline(string text)
    {
        // Code spans first, protected from the emphasis rules by placeholders.
        var spans = new List<string>();
        var s = InlineCode().Replace(text, m =>
        {
            spans.Add("<code>" + WebUtility.HtmlEncode(m.Groups[1].Value) + "</code>");
            return $"\u0001{spans.Count - 1}\u0001";
        });
        s = WebUtility.HtmlEncode(s);
        s = Link().Replace(s, m => IsSafeUrl(m.Groups[2].Value) ? $"<a href=\"{m.Groups[2].Value}\">{m.Groups[1].Value}</a>" : m.Value);
        s = Bold().Replace(s, "<strong>$1</strong>");
        s = Italic().Replace(s, "<em>$1</em>");
        for (var i = 0; i < spans.Count; i++) s = s.Replace($"\u0001{i}\u0001", spans[i], StringComparison.Ordinal);
        return s;
    }

    private static bool IsSafeUrl(string url) =>
        url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
        || url.StartsWith('#') || (!url.Contains(':', StringComparison.Ordinal) && !url.StartsWith("//", StringComparison.Ordinal));
}
