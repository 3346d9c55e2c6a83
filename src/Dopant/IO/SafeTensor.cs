using System.Collections.Immutable;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Dopant.IO;

/// <summary>
/// One named tensor of a safetensors file: an element type, a shape and the raw little-endian bytes of its
/// elements in row-major order. Immutable.
/// </summary>
public sealed class SafeTensor
{
    private readonly long[] _shape;

    /// <summary>Wraps validated parts without copying; <paramref name="data"/> must not change afterwards.</summary>
    internal SafeTensor(string name, SafeTensorsDType dtype, long[] shape, long elementCount, ReadOnlyMemory<byte> data)
    {
        Name = name;
        DType = dtype;
        _shape = shape;
        ElementCount = elementCount;
        Data = data;
    }

    /// <summary>The tensor's name, its key in the file header (for example <c>rnn.weight_ih_l0</c>).</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public SafeTensorsDType DType { get; }

    /// <summary>
    /// The size of each dimension, outermost first; empty for a scalar. Compare shapes with
    /// <c>SequenceEqual</c>: <see cref="ImmutableArray{T}"/> equality compares references.
    /// </summary>
    public ImmutableArray<long> Shape => ImmutableCollectionsMarshal.AsImmutableArray(_shape);

    /// <summary>The number of elements: the product of <see cref="Shape"/> (1 for a scalar, 0 if any dimension is 0).</summary>
    public long ElementCount { get; }

    /// <summary>The elements' raw little-endian bytes, <see cref="ElementCount"/> · element size of them.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>
    /// Views the elements as <typeparamref name="T"/> without copying. <typeparamref name="T"/> must be the type
    /// <see cref="DType"/> is read as: <see cref="float"/> for F32, <see cref="Half"/> for F16, <see cref="sbyte"/>
    /// for I8, <see cref="bool"/> for BOOL and so on (see <see cref="SafeTensorsDType"/>).
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> does not match <see cref="DType"/>.</exception>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        SafeTensorsDType? expected = SafeTensorsDTypeExtensions.ForElementType<T>();
        if (expected != DType)
        {
            string needed = expected is { } dtype ? $"{dtype.ToHeaderName()} data" : "a type safetensors can store";
            throw new InvalidOperationException(
                $"Tensor {DiagnosticText.Quote(Name)} is {DType.ToHeaderName()}; reading it as {typeof(T).Name} needs {needed}.");
        }
        return MemoryMarshal.Cast<byte, T>(Data.Span);
    }

    /// <summary>Copies the elements into a new <typeparamref name="T"/> array; the type rules of <see cref="AsSpan{T}"/> apply.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> does not match <see cref="DType"/>.</exception>
    public T[] ToArray<T>() where T : unmanaged => AsSpan<T>().ToArray();

    /// <summary>Copies the elements of an F32, F16 or BF16 tensor into a new <see cref="float"/> array; widening is exact.</summary>
    /// <exception cref="InvalidOperationException"><see cref="DType"/> is not F32, F16 or BF16.</exception>
    public float[] ToSingleArray()
    {
        switch (DType)
        {
            case SafeTensorsDType.Float32:
                return AsSpan<float>().ToArray();
            case SafeTensorsDType.Float16:
            {
                var result = new float[ElementCount];
                TensorPrimitives.ConvertToSingle(AsSpan<Half>(), result);
                return result;
            }
            case SafeTensorsDType.BFloat16:
            {
                ReadOnlySpan<ushort> bits = MemoryMarshal.Cast<byte, ushort>(Data.Span);
                var result = new float[bits.Length];
                for (int i = 0; i < bits.Length; i++)
                    result[i] = BFloat16Bits.ToSingle(bits[i]);
                return result;
            }
            default:
                throw new InvalidOperationException(
                    $"Tensor {DiagnosticText.Quote(Name)} is {DType.ToHeaderName()}; only F32, F16 and BF16 convert to float.");
        }
    }

    /// <summary>Creates a tensor holding a copy of <paramref name="values"/>; the dtype follows from <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">
    /// A type with a safetensors dtype: <see cref="double"/>, <see cref="float"/>, <see cref="Half"/>, <see cref="long"/>,
    /// <see cref="int"/>, <see cref="short"/>, <see cref="sbyte"/>, <see cref="ulong"/>, <see cref="uint"/>,
    /// <see cref="ushort"/>, <see cref="byte"/> or <see cref="bool"/>.
    /// </typeparam>
    /// <param name="name">The tensor's name; any string but <c>__metadata__</c>.</param>
    /// <param name="values">The elements in row-major order.</param>
    /// <param name="shape">The dimensions; their product must equal the number of values. Empty for a scalar.</param>
    /// <exception cref="ArgumentException">
    /// <typeparamref name="T"/> has no dtype, the name is reserved or not well-formed UTF-16, or the shape does not fit the values.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static SafeTensor Create<T>(string name, ReadOnlySpan<T> values, params ReadOnlySpan<long> shape) where T : unmanaged
    {
        SafeTensorsDType dtype = SafeTensorsDTypeExtensions.ForElementType<T>()
            ?? throw new ArgumentException($"{typeof(T).Name} has no safetensors dtype.", nameof(values));
        return FromBytes(name, dtype, MemoryMarshal.AsBytes(values), shape);
    }

    /// <summary>
    /// Creates an F32, F16 or BF16 tensor from <see cref="float"/> values, rounding to nearest (ties to even) when
    /// narrowing; values beyond the target range become infinities.
    /// </summary>
    /// <param name="name">The tensor's name; any string but <c>__metadata__</c>.</param>
    /// <param name="dtype">F32, F16 or BF16.</param>
    /// <param name="values">The elements in row-major order.</param>
    /// <param name="shape">The dimensions; their product must equal the number of values. Empty for a scalar.</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="dtype"/> is not a float type, the name is reserved or not well-formed UTF-16, or the shape does not fit the values.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static SafeTensor FromSingles(string name, SafeTensorsDType dtype, ReadOnlySpan<float> values, params ReadOnlySpan<long> shape)
    {
        switch (dtype)
        {
            case SafeTensorsDType.Float32:
                return Create(name, values, shape);
            case SafeTensorsDType.Float16:
            {
                var halves = new Half[values.Length];
                TensorPrimitives.ConvertToHalf(values, halves);
                return Create<Half>(name, halves, shape);
            }
            case SafeTensorsDType.BFloat16:
            {
                var bits = new ushort[values.Length];
                for (int i = 0; i < values.Length; i++)
                    bits[i] = BFloat16Bits.FromSingle(values[i]);
                return FromBytes(name, dtype, MemoryMarshal.AsBytes<ushort>(bits), shape);
            }
            default:
                throw new ArgumentException($"{dtype} is not F32, F16 or BF16.", nameof(dtype));
        }
    }

    /// <summary>Creates a tensor of any dtype from a copy of its raw little-endian bytes.</summary>
    /// <param name="name">The tensor's name; any string but <c>__metadata__</c>.</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="data">The elements' bytes in row-major order.</param>
    /// <param name="shape">The dimensions; their product times the element size must equal the byte count. Empty for a scalar.</param>
    /// <exception cref="ArgumentException">
    /// The name is reserved or not well-formed UTF-16, the shape does not fit the data, or BOOL data holds a byte other than 0 or 1.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is undefined or a dimension is negative.</exception>
    public static SafeTensor FromBytes(string name, SafeTensorsDType dtype, ReadOnlySpan<byte> data, params ReadOnlySpan<long> shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == SafeTensorsHeader.MetadataKey)
            throw new ArgumentException($"'{SafeTensorsHeader.MetadataKey}' is reserved for the file's metadata.", nameof(name));
        if (!SafeTensorsHeader.IsWellFormed(name))
            throw new ArgumentException("The tensor name contains an unpaired surrogate, which JSON cannot carry.", nameof(name));
        int elementSize = dtype.ElementSize();
        foreach (long dimension in shape)
            ArgumentOutOfRangeException.ThrowIfNegative(dimension, nameof(shape));
        long elementCount = CountElements(shape) ?? -1;
        if (elementCount < 0 || elementCount > data.Length / elementSize || elementCount * elementSize != data.Length)
            throw new ArgumentException(
                $"Shape {FormatShape(shape)} of {dtype.ToHeaderName()} does not fit {data.Length} bytes.", nameof(shape));
        if (dtype == SafeTensorsDType.Bool && data.IndexOfAnyExcept((byte)0, (byte)1) >= 0)
            throw new ArgumentException("BOOL data must hold only the bytes 0 and 1.", nameof(data));
        return new SafeTensor(name, dtype, shape.ToArray(), elementCount, data.ToArray());
    }

    /// <summary>Returns the name, dtype and shape, such as <c>rnn.weight_ih_l0 F32 [1024, 256]</c>.</summary>
    public override string ToString() => $"{Name} {DType.ToHeaderName()} {FormatShape(_shape)}";

    /// <summary>The product of non-negative dimensions, or null when it does not fit in a <see cref="long"/>.</summary>
    internal static long? CountElements(ReadOnlySpan<long> shape)
    {
        // A zero dimension empties the tensor however large the others are, so check for it before multiplying.
        if (shape.Contains(0))
            return 0;
        long count = 1;
        foreach (long dimension in shape)
        {
            if (count > long.MaxValue / dimension)
                return null;
            count *= dimension;
        }
        return count;
    }

    /// <summary>Formats a shape as <c>[2, 3]</c>, the way PyTorch prints sizes.</summary>
    internal static string FormatShape(ReadOnlySpan<long> shape) => $"[{string.Join(", ", shape.ToArray())}]";
}
