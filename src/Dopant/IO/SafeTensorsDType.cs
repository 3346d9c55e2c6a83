namespace Dopant.IO;

/// <summary>
/// The element type of a safetensors tensor. Each member's documentation gives the code the file header uses
/// for it (see <see cref="SafeTensorsDTypeExtensions.ToHeaderName"/>). All multi-byte types are little-endian.
/// </summary>
public enum SafeTensorsDType
{
    /// <summary><c>F64</c>: IEEE 754 binary64, read as <see cref="double"/>.</summary>
    Float64,

    /// <summary><c>F32</c>: IEEE 754 binary32, read as <see cref="float"/>.</summary>
    Float32,

    /// <summary><c>F16</c>: IEEE 754 binary16, read as <see cref="Half"/>.</summary>
    Float16,

    /// <summary><c>BF16</c>: bfloat16, the upper 16 bits of a binary32; no .NET element type, converted with <see cref="SafeTensor.ToSingleArray"/>.</summary>
    BFloat16,

    /// <summary><c>F8_E4M3</c>: 8-bit float with 4 exponent and 3 mantissa bits; raw bytes only.</summary>
    Float8E4M3,

    /// <summary><c>F8_E5M2</c>: 8-bit float with 5 exponent and 2 mantissa bits; raw bytes only.</summary>
    Float8E5M2,

    /// <summary><c>I64</c>: read as <see cref="long"/>.</summary>
    Int64,

    /// <summary><c>I32</c>: read as <see cref="int"/>.</summary>
    Int32,

    /// <summary><c>I16</c>: read as <see cref="short"/>.</summary>
    Int16,

    /// <summary><c>I8</c>: read as <see cref="sbyte"/>.</summary>
    Int8,

    /// <summary><c>U64</c>: read as <see cref="ulong"/>.</summary>
    UInt64,

    /// <summary><c>U32</c>: read as <see cref="uint"/>.</summary>
    UInt32,

    /// <summary><c>U16</c>: read as <see cref="ushort"/>.</summary>
    UInt16,

    /// <summary><c>U8</c>: read as <see cref="byte"/>.</summary>
    UInt8,

    /// <summary><c>BOOL</c>: one byte per element, 0 or 1, read as <see cref="bool"/>.</summary>
    Bool,
}
