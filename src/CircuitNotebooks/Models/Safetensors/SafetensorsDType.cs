using TorchSharp;

namespace CircuitNotebooks.Models;

/// <summary>Element types of the safetensors format that map onto a TorchSharp dtype.</summary>
public enum SafetensorsDType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL }

public static class SafetensorsDTypes
{
    public static bool TryParse(string text, out SafetensorsDType dtype)
    {
        // Enum.TryParse would also accept numbers and other casings; the format spells dtypes exactly.
        foreach (var d in Enum.GetValues<SafetensorsDType>())
            if (d.ToString() == text) { dtype = d; return true; }
        dtype = default;
        return false;
    }

    public static int SizeOf(SafetensorsDType d) => d switch
    {
        SafetensorsDType.F64 or SafetensorsDType.I64 => 8,
        SafetensorsDType.F32 or SafetensorsDType.I32 => 4,
        SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.I16 => 2,
        _ => 1,
    };

    public static torch.ScalarType ToScalarType(SafetensorsDType d) => d switch
    {
        SafetensorsDType.F64 => torch.ScalarType.Float64,
        SafetensorsDType.F32 => torch.ScalarType.Float32,
        SafetensorsDType.F16 => torch.ScalarType.Float16,
        SafetensorsDType.BF16 => torch.ScalarType.BFloat16,
        SafetensorsDType.I64 => torch.ScalarType.Int64,
        SafetensorsDType.I32 => torch.ScalarType.Int32,
        SafetensorsDType.I16 => torch.ScalarType.Int16,
        SafetensorsDType.I8 => torch.ScalarType.Int8,
        SafetensorsDType.U8 => torch.ScalarType.Byte,
        SafetensorsDType.BOOL => torch.ScalarType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(d)),
    };

    public static SafetensorsDType FromScalarType(torch.ScalarType t) => t switch
    {
        torch.ScalarType.Float64 => SafetensorsDType.F64,
        torch.ScalarType.Float32 => SafetensorsDType.F32,
        torch.ScalarType.Float16 => SafetensorsDType.F16,
        torch.ScalarType.BFloat16 => SafetensorsDType.BF16,
        torch.ScalarType.Int64 => SafetensorsDType.I64,
        torch.ScalarType.Int32 => SafetensorsDType.I32,
        torch.ScalarType.Int16 => SafetensorsDType.I16,
        torch.ScalarType.Int8 => SafetensorsDType.I8,
        torch.ScalarType.Byte => SafetensorsDType.U8,
        torch.ScalarType.Bool => SafetensorsDType.BOOL,
        _ => throw new NotSupportedException($"dtype {t} cannot be stored in safetensors by this writer."),
    };
}
