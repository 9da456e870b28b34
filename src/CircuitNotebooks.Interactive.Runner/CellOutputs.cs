using System.Text;
using System.Text.Json.Nodes;
using CircuitNotebooks.Interactive.Display;
using CircuitNotebooks.Interactive.Html;
using Microsoft.DotNet.Interactive.Formatting;

namespace CircuitNotebooks.Interactive.Runner;

/// <summary>
/// Collects one cell's outputs in .ipynb form: displays as display_data (text/html + text/plain from the Formatting
/// registry), console text as stdout stream outputs kept in order with the displays, errors as error outputs.
/// Handles from earlier cells stay live, so a progress display updated later still lands in its own cell.
/// </summary>
internal sealed class CellOutputs : IDisplaySink
{
    private readonly object _gate;
    private readonly StringBuilder _stdout = new();
    private NotebookCell? _cell;

    public CellOutputs(object gate) => _gate = gate;

    public void Begin(NotebookCell cell)
    {
        lock (_gate)
        {
            _cell = cell;
            _stdout.Clear();
        }
    }

    /// <summary>Console output of the running cell (Console.Out is redirected here).</summary>
    public TextWriter Console => new ConsoleWriter(this);

    public void End() => FlushStdout();

    public IDisplayHandle Display(object value)
    {
        var data = Render(value);
        lock (_gate)
        {
            var cell = _cell ?? throw new InvalidOperationException("display() called outside a running cell");
            FlushStdout();
            var output = new JsonObject { ["output_type"] = "display_data", ["data"] = data, ["metadata"] = new JsonObject() };
            cell.Outputs.Add(output);
            return new Handle(this, output);
        }
    }

    public void Error(string ename, string evalue, IEnumerable<string> traceback)
    {
        lock (_gate)
        {
            FlushStdout();
            _cell?.Outputs.Add(new JsonObject
            {
                ["output_type"] = "error",
                ["ename"] = ename,
                ["evalue"] = evalue,
                ["traceback"] = new JsonArray(traceback.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
            });
        }
    }

    public void Stream(string text)
    {
        lock (_gate) _stdout.Append(text);
    }

    private void FlushStdout()
    {
        lock (_gate)
        {
            if (_stdout.Length == 0 || _cell == null) return;
            _cell.Outputs.Add(new JsonObject
            {
                ["output_type"] = "stream",
                ["name"] = "stdout",
                ["text"] = NotebookDocument.SplitSource(_stdout.ToString()),
            });
            _stdout.Clear();
        }
    }

    internal static JsonObject Render(object value) => new()
    {
        ["text/html"] = Formatter.ToDisplayString(value, "text/html"),
        ["text/plain"] = Formatter.ToDisplayString(value, "text/plain"),
    };

    private sealed class Handle(CellOutputs owner, JsonObject output) : IDisplayHandle
    {
        public void Update(object value)
        {
            var data = Render(value);
            lock (owner._gate)
            {
                // The output being replaced may be the one that carried plotly.js for the whole document.
                var old = output["data"]?["text/html"]?.GetValue<string>() ?? "";
                var html = data["text/html"]!.GetValue<string>();
                if (old.Contains(PlotlyJs.EmbedMarker, StringComparison.Ordinal) && !html.Contains(PlotlyJs.EmbedMarker, StringComparison.Ordinal))
                    data["text/html"] = PlotlyJs.ScriptTag() + html;
                output["data"] = data;
            }
        }
    }

    private sealed class ConsoleWriter(CellOutputs owner) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;
        public override void Write(char value) => owner.Stream(value.ToString());
        public override void Write(string? value)
        {
            if (value != null) owner.Stream(value);
        }
    }
}
