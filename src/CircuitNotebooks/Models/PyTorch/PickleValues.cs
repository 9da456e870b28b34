namespace CircuitNotebooks.Models;

/// <summary>A module-level name a pickle refers to (GLOBAL); only ever compared, never resolved or called.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>collections.OrderedDict / dict contents in insertion order.</summary>
internal sealed class PickleDict
{
    public List<KeyValuePair<object?, object?>> Items { get; } = [];
}

/// <summary>A torch storage named by a persistent id: its bytes live in the archive's data/&lt;Key&gt; entry.</summary>
internal sealed record StorageRef(string Kind, string Key, long NumElements);

/// <summary>The arguments of torch._utils._rebuild_tensor_v2: a strided view of a storage.</summary>
internal sealed record TensorRef(StorageRef Storage, long Offset, long[] Size, long[] Stride);
