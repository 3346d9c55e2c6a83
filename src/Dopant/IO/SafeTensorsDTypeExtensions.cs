namespace Dopant.IO;

/// <summary>Sizes, header codes and .NET element types of <see cref="SafeTensorsDType"/> values.</summary>
public static class SafeTensorsDTypeExtensions
{
    /// <summary>The number of bytes one element occupies.</summary>
    /// <param name="dtype">The element type.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is not a defined value.</exception>
    public static int ElementSize(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.Float64 or SafeTensorsDType.Int64 or SafeTensorsDType.UInt64 => 8,
        SafeTensorsDType.Float32 or SafeTensorsDType.Int32 or SafeTensorsDType.UInt32 => 4,
        SafeTensorsDType.Float16 or SafeTensorsDType.BFloat16 or SafeTensorsDType.Int16 or SafeTensorsDType.UInt16 => 2,
        SafeTensorsDType.Float8E4M3 or SafeTensorsDType.Float8E5M2 or SafeTensorsDType.Int8 or SafeTensorsDType.UInt8
            or SafeTensorsDType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a safetensors dtype."),
    };

    /// <summary>The code the safetensors header uses for the type, such as <c>F32</c> or <c>BF16</c>.</summary>
    /// <param name="dtype">The element type.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is not a defined value.</exception>
    public static string ToHeaderName(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.Float64 => "F64",
        SafeTensorsDType.Float32 => "F32",
        SafeTensorsDType.Float16 => "F16",
        SafeTensorsDType.BFloat16 => "BF16",
        SafeTensorsDType.Float8E4M3 => "F8_E4M3",
        SafeTensorsDType.Float8E5M2 => "F8_E5M2",
        SafeTensorsDType.Int64 => "I64",
        SafeTensorsDType.Int32 => "I32",
        SafeTensorsDType.Int16 => "I16",
        SafeTensorsDType.Int8 => "I8",
        SafeTensorsDType.UInt64 => "U64",
        SafeTensorsDType.UInt32 => "U32",
        SafeTensorsDType.UInt16 => "U16",
        SafeTensorsDType.UInt8 => "U8",
        SafeTensorsDType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a safetensors dtype."),
    };

    /// <summary>Parses a header code; the codes are case-sensitive, as in the reference implementation.</summary>
    internal static bool TryParseHeaderName(string name, out SafeTensorsDType dtype)
    {
        foreach (SafeTensorsDType candidate in Enum.GetValues<SafeTensorsDType>())
        {
            if (candidate.ToHeaderName() == name)
            {
                dtype = candidate;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    /// <summary>The dtype whose elements are stored as <typeparamref name="T"/>, or null when there is none.</summary>
    internal static SafeTensorsDType? ForElementType<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(double)) return SafeTensorsDType.Float64;
        if (typeof(T) == typeof(float)) return SafeTensorsDType.Float32;
        if (typeof(T) == typeof(Half)) return SafeTensorsDType.Float16;
        if (typeof(T) == typeof(long)) return SafeTensorsDType.Int64;
        if (typeof(T) == typeof(int)) return SafeTensorsDType.Int32;
        if (typeof(T) == typeof(short)) return SafeTensorsDType.Int16;
        if (typeof(T) == typeof(sbyte)) return SafeTensorsDType.Int8;
        if (typeof(T) == typeof(ulong)) return SafeTensorsDType.UInt64;
        if (typeof(T) == typeof(uint)) return SafeTensorsDType.UInt32;
        if (typeof(T) == typeof(ushort)) return SafeTensorsDType.UInt16;
        if (typeof(T) == typeof(byte)) return SafeTensorsDType.UInt8;
        if (typeof(T) == typeof(bool)) return SafeTensorsDType.Bool;
        return null;
    }
}
