using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace CircuitNotebooks.Models;

/// <summary>
/// Reads the pickle of a PyTorch state dict without executing anything. Python's unpickler imports and calls whatever
/// a GLOBAL + REDUCE names (the classic os.system exploit); this one knows a fixed list of names (OrderedDict, torch
/// storage types, the two tensor-rebuild functions) and turns those into plain data. Any other global is refused at
/// the opcode that names it, with the file and the name in the message. Hand-written: Microsoft.ML.Tokenizers and
/// TorchSharp have no such reader, and a general-purpose unpickler would construct arbitrary objects.
/// </summary>
internal sealed class RestrictedUnpickler
{
    private static readonly HashSet<string> StorageKinds =
    [
        "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage", "ShortStorage",
        "CharStorage", "ByteStorage", "BoolStorage",
    ];
    private static readonly PickleGlobal OrderedDict = new("collections", "OrderedDict");
    private static readonly PickleGlobal RebuildTensor = new("torch._utils", "_rebuild_tensor_v2");
    private static readonly PickleGlobal RebuildParameter = new("torch._utils", "_rebuild_parameter");

    private readonly byte[] _data;
    private readonly string _source;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;

    private RestrictedUnpickler(byte[] data, string source)
    {
        _data = data;
        _source = source;
    }

    /// <summary>The unpickled value: PickleDict, TensorRef, lists, object[] tuples, strings, numbers, bools, null.</summary>
    public static object? Load(byte[] pickle, string source) => new RestrictedUnpickler(pickle, source).Run();

    private InvalidDataException Bad(string why) => new($"{_source}: {why} (pickle offset {_pos}).");

    private static bool Allowed(PickleGlobal g) =>
        g == OrderedDict || g == RebuildTensor || g == RebuildParameter || (g.Module == "torch" && StorageKinds.Contains(g.Name));

    private object? Run()
    {
        while (true)
        {
            if (_pos >= _data.Length) throw Bad("pickle ends without STOP");
            byte op = _data[_pos++];
            switch (op)
            {
                case 0x80: _pos++; break;                               // PROTO n
                case 0x95: Take(8); break;                              // FRAME length
                case (byte)'.': return Pop();                           // STOP
                case (byte)'(': _marks.Add(_stack.Count); break;        // MARK
                case (byte)'}': Push(new PickleDict()); break;          // EMPTY_DICT
                case (byte)']': Push(new List<object?>()); break;       // EMPTY_LIST
                case (byte)')': Push(Array.Empty<object?>()); break;    // EMPTY_TUPLE
                case (byte)'t': Push(PopToMark().ToArray()); break;     // TUPLE
                case 0x85: Push(new[] { Pop() }); break;                // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case (byte)'a': { var v = Pop(); As<List<object?>>(Peek(), "APPEND target").Add(v); break; }
                case (byte)'e': { var items = PopToMark(); As<List<object?>>(Peek(), "APPENDS target").AddRange(items); break; }
                case (byte)'s': { var v = Pop(); var k = Pop(); As<PickleDict>(Peek(), "SETITEM target").Items.Add(new(k, v)); break; }
                case (byte)'u':
                {
                    var items = PopToMark();
                    var d = As<PickleDict>(Peek(), "SETITEMS target");
                    for (int i = 0; i + 1 < items.Count; i += 2) d.Items.Add(new(items[i], items[i + 1]));
                    break;
                }
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': Push((long)Take(1)[0]); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: Push(Long(Take(Take(1)[0]))); break;           // LONG1
                case 0x8b: Push(Long(Take(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))))); break; // LONG4
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case (byte)'X': Push(Utf8(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break;
                case 0x8c: Push(Utf8(Take(1)[0])); break;                 // SHORT_BINUNICODE
                case 0x8d: Push(Utf8(checked((int)BinaryPrimitives.ReadUInt64LittleEndian(Take(8))))); break;
                case (byte)'T': Push(Encoding.Latin1.GetString(Take(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))))); break;
                case (byte)'U': Push(Encoding.Latin1.GetString(Take(Take(1)[0]))); break;
                case (byte)'B': Push(Take(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))).ToArray()); break;
                case (byte)'C': Push(Take(Take(1)[0]).ToArray()); break;
                case (byte)'c': Push(Global(Line(), Line())); break;       // GLOBAL "module\nname\n"
                case 0x93: { var name = Pop(); var module = Pop(); Push(Global(As<string>(module, "STACK_GLOBAL module"), As<string>(name, "STACK_GLOBAL name"))); break; }
                case (byte)'R': { var args = Pop(); var f = Pop(); Push(Call(f, As<object?[]>(args, "REDUCE arguments"))); break; }
                case 0x81: { var args = Pop(); var cls = Pop(); Push(Call(cls, As<object?[]>(args, "NEWOBJ arguments"))); break; }
                case (byte)'b': { var state = Pop(); Build(Peek(), state); break; }
                case (byte)'Q': Push(PersistentLoad(Pop())); break;         // BINPERSID
                case (byte)'q': _memo[Take(1)[0]] = Peek(); break;           // BINPUT
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek(); break;
                case 0x94: _memo[_memo.Count] = Peek(); break;               // MEMOIZE
                case (byte)'p': _memo[long.Parse(Line())] = Peek(); break;   // PUT
                case (byte)'h': Push(Memo(Take(1)[0])); break;               // BINGET
                case (byte)'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;
                case (byte)'g': Push(Memo(long.Parse(Line()))); break;       // GET
                case (byte)'0': Pop(); break;                                // POP
                case (byte)'1': PopToMark(); break;                          // POP_MARK
                case (byte)'2': Push(Peek()); break;                         // DUP
                default: _pos--; throw Bad($"pickle opcode 0x{op:X2} is not supported in a weights file");
            }
        }
    }

    private PickleGlobal Global(string module, string name)
    {
        var g = new PickleGlobal(module, name);
        if (!Allowed(g))
            throw Bad($"the pickle refers to '{g}', which a weights file has no reason to contain; refusing to load it (nothing was executed)");
        return g;
    }

    private object? Call(object? callable, object?[] args)
    {
        if (callable is not PickleGlobal g) throw Bad("REDUCE of something that is not an allowed global");
        if (g == OrderedDict && args.Length == 0) return new PickleDict();
        if (g == RebuildTensor && args.Length is 6 or 7 && args[0] is StorageRef s)
            return new TensorRef(s, As<long>(args[1], "storage offset"), Longs(args[2], "size"), Longs(args[3], "stride"));
        if (g == RebuildParameter && args.Length == 3 && args[0] is TensorRef t) return t;
        throw Bad($"'{g}' called with unexpected arguments");
    }

    private void Build(object? target, object? state)
    {
        // OrderedDict state carries the state dict's _metadata (module versions), which loading does not need.
        if (target is PickleDict) return;
        throw Bad($"BUILD on {target?.GetType().Name ?? "None"} is not supported in a weights file");
    }

    private StorageRef PersistentLoad(object? pid)
    {
        if (pid is object?[] { Length: 5 } t && t[0] is "storage" && t[1] is PickleGlobal { Module: "torch" } kind && t[2] is string key && t[4] is long n)
            return new StorageRef(kind.Name, key, n);
        throw Bad("persistent id is not a ('storage', type, key, location, numel) tuple");
    }

    private long[] Longs(object? v, string what) => As<object?[]>(v, what).Select(x => As<long>(x, what)).ToArray();

    private T As<T>(object? v, string what) => v is T t ? t : throw Bad($"{what} has unexpected type {v?.GetType().Name ?? "None"}");

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n < 0 || _pos + n > _data.Length) throw Bad("pickle is truncated");
        var s = _data.AsSpan(_pos, n);
        _pos += n;
        return s;
    }

    private string Utf8(int n) => Encoding.UTF8.GetString(Take(n));

    private string Line()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0) throw Bad("pickle is truncated");
        var s = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }

    private object Long(ReadOnlySpan<byte> bytes)
    {
        var v = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return v >= long.MinValue && v <= long.MaxValue ? (long)v : throw Bad("integer does not fit in 64 bits");
    }

    private object? Memo(long key) => _memo.TryGetValue(key, out var v) ? v : throw Bad($"memo key {key} was never stored");

    private void Push(object? v) => _stack.Add(v);

    private object? Peek() => _stack.Count > (_marks.Count > 0 ? _marks[^1] : 0) ? _stack[^1] : throw Bad("stack underflow");

    private object? Pop()
    {
        var v = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private List<object?> PopToMark()
    {
        if (_marks.Count == 0) throw Bad("no MARK to pop to");
        int m = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(m, _stack.Count - m);
        _stack.RemoveRange(m, _stack.Count - m);
        return items;
    }
}
