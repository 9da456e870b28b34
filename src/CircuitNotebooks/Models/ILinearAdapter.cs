using static TorchSharp.torch;

namespace CircuitNotebooks.Models;

/// <summary>
/// A trainable addition to one of the model's linear maps (LoRA and friends). The map's input is flattened to
/// [..., d_in] and its output to [..., d_out] in head-major order (W_Q: d_in = d_model, d_out = n_heads·d_head;
/// W_O: d_in = n_heads·d_head, d_out = d_model).
/// </summary>
public interface ILinearAdapter
{
    /// <summary>Extra output for input x [..., d_in] → [..., d_out]; used on the fast path.</summary>
    Tensor Apply(Tensor x);
    /// <summary>The equivalent dense weight change [d_in, d_out]; used where per-head analysis hooks need explicit weights.</summary>
    Tensor DeltaWeight();
}
