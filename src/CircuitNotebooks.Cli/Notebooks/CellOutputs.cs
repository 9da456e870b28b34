using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Events;

namespace CircuitNotebooks.Cli.Notebooks;

/// <summary>
/// Kernel events of one cell as .ipynb outputs: consecutive stream text merged, an updated display replaced in place
/// (progress bars), each display with all the MIME types the kernel formatted.
/// </summary>
internal sealed class CellOutputs(List<InteractiveDocumentOutputElement> outputs)
{
    private readonly Dictionary<string, int> _displayIndex = new(StringComparer.Ordinal);

    public void Stream(string name, DisplayEvent e)
    {
        var text = string.Concat(e.FormattedValues.Where(v => v.MimeType == "text/plain").Select(v => v.Value));
        if (outputs.Count > 0 && outputs[^1] is TextElement last && last.Name == name)
            outputs[^1] = new TextElement(last.Text + text, name);
        else
            outputs.Add(new TextElement(text, name));
    }

    public void Display(DisplayEvent e)
    {
        var element = new DisplayElement(Data(e));
        if (e.ValueId is { } id) _displayIndex[id] = outputs.Count;
        outputs.Add(element);
    }

    public void Update(DisplayedValueUpdated e)
    {
        if (e.ValueId is { } id && _displayIndex.TryGetValue(id, out var index)) outputs[index] = new DisplayElement(Data(e));
        else Display(e);
    }

    public void Error(string name, string message) => outputs.Add(new ErrorElement(message, name, []));

    private static Dictionary<string, object> Data(DisplayEvent e) =>
        e.FormattedValues.GroupBy(v => v.MimeType).ToDictionary(g => g.Key, g => (object)g.Last().Value);
}
