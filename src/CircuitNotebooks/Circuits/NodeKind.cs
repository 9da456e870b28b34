namespace CircuitNotebooks.Circuits;

/// <summary>What a circuit node is. Node ids: forward nodes keep their forward index; <c>logits</c> is the last id.</summary>
public enum NodeKind { Input, Head, Mlp, Logits }

/// <summary>Which of an attention head's three separately patchable inputs a backward (destination) index is.</summary>
public enum QkvInput { Q = 0, K = 1, V = 2 }
