using System.Globalization;
using System.Net;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CircuitNotebooks.Interactive.Formatting;

/// <summary>
/// TorchSharp tensors as a header (shape, dtype, device, grad) and a bounded preview: a 1-D head, or the top-left
/// block of the first matrix for higher ranks. The preview copies at most <see cref="MaxRows"/>×<see cref="MaxColumns"/>
/// values to the CPU, so formatting a large CUDA tensor stays cheap.
/// </summary>
public sealed class TensorFormatter : NotebookFormatter<Tensor>
{
    public static int MaxRows { get; set; } = 8;
    public static int MaxColumns { get; set; } = 10;

    protected override bool Format(Tensor value, TextWriter writer)
    {
        writer.Write(ToHtml(value));
        return true;
    }

    public static string ToHtml(Tensor tensor)
    {
        if (tensor.IsInvalid) return "<div class=\"cn-tensor\"><b>Tensor</b> (disposed)</div>";
        var shape = tensor.shape;
        var sb = new StringBuilder("<div class=\"cn-tensor\"><div><b>Tensor</b> ");
        sb.Append("shape [").Append(string.Join(", ", shape)).Append("] · ")
          .Append(tensor.dtype.ToString()).Append(" · ").Append(WebUtility.HtmlEncode(tensor.device.ToString()))
          .Append(" · ").Append(tensor.numel().ToString(CultureInfo.InvariantCulture)).Append(" elements");
        if (tensor.requires_grad) sb.Append(" · requires_grad");
        sb.Append("</div>");
        if (tensor.is_complex()) return sb.Append("<div class=\"cn-caption\">complex values: no preview</div></div>").ToString();
        if (tensor.numel() == 0) return sb.Append("</div>").ToString();

        using var scope = NewDisposeScope();
        var t = tensor.detach();
        var prefix = new List<string>();
        while (t.dim() > 2)
        {
            t = t[0];
            prefix.Add("0");
        }
        var matrix = t.dim() switch { 0 => t.reshape(1, 1), 1 => t.reshape(1, -1), _ => t };
        var (rows, cols) = ((int)matrix.shape[0], (int)matrix.shape[1]);
        var (showRows, showCols) = (Math.Min(rows, MaxRows), Math.Min(cols, MaxColumns));
        var block = matrix.narrow(0, 0, showRows).narrow(1, 0, showCols).to(CPU).to_type(ScalarType.Float64).contiguous();
        var values = block.data<double>().ToArray();

        if (prefix.Count > 0)
            sb.Append("<div class=\"cn-caption\">showing [").Append(string.Join(", ", prefix)).Append(", :, :]</div>");
        sb.Append("<table class=\"cn-table\"><tbody>");
        for (var r = 0; r < showRows; r++)
        {
            sb.Append("<tr>");
            for (var c = 0; c < showCols; c++)
                sb.Append("<td>").Append(values[r * showCols + c].ToString("G5", CultureInfo.InvariantCulture)).Append("</td>");
            if (showCols < cols) sb.Append("<td>…</td>");
            sb.Append("</tr>");
        }
        if (showRows < rows) sb.Append("<tr><td colspan=\"").Append(showCols + (showCols < cols ? 1 : 0)).Append("\">…</td></tr>");
        sb.Append("</tbody></table>");
        var shown = (long)showRows * showCols;
        if (shown < tensor.numel())
            sb.Append("<div class=\"cn-more\">showing ").Append(shown).Append(" of ").Append(tensor.numel()).Append(" values</div>");
        return sb.Append("</div>").ToString();
    }
}
