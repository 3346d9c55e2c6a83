using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Dopant.Numerics;

/// <summary>
/// Symmetric per-row quantization of a row-major matrix: W[i, j] ≈ scale[i]·value[i, j], with 8-bit integers (the
/// row's largest magnitude maps to 127; error at most half a step, 1/254 of it) or 16-bit floats (the row divided by
/// its largest magnitude; relative rounding 2⁻¹¹). An all-zero row gets scale 0.
/// </summary>
internal static class RowQuantization
{
    /// <summary>Writes the 8-bit values and the scales of <paramref name="weights"/>.</summary>
    public static void ToInt8(ReadOnlySpan<float> weights, int rows, int columns, Span<sbyte> values, Span<float> scales)
    {
        Check(weights, rows, columns, values.Length, scales.Length);
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> row = weights.Slice(i * columns, columns);
            float largest = Largest(row, i);
            scales[i] = largest / 127;
            float inverse = largest > 0 ? 127 / largest : 0;
            Span<sbyte> q = values.Slice(i * columns, columns);
            for (int j = 0; j < columns; j++) q[j] = (sbyte)Math.Clamp(MathF.Round(row[j] * inverse), -127, 127);
        }
    }

    /// <summary>Writes the 16-bit values and the scales of <paramref name="weights"/>.</summary>
    public static void ToFloat16(ReadOnlySpan<float> weights, int rows, int columns, Span<Half> values, Span<float> scales)
    {
        Check(weights, rows, columns, values.Length, scales.Length);
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> row = weights.Slice(i * columns, columns);
            float largest = Largest(row, i);
            scales[i] = largest;
            float inverse = largest > 0 ? 1 / largest : 0;
            Span<Half> h = values.Slice(i * columns, columns);
            for (int j = 0; j < columns; j++) h[j] = (Half)(row[j] * inverse);
        }
    }

    /// <summary>The float matrix that quantized values and scales stand for: scale[i]·value[i, j].</summary>
    public static void Dequantize<TValue>(ReadOnlySpan<TValue> values, ReadOnlySpan<float> scales, int columns, Span<float> weights)
        where TValue : unmanaged
    {
        if (typeof(TValue) != typeof(sbyte) && typeof(TValue) != typeof(Half)) throw new NotSupportedException(typeof(TValue).Name);
        for (int i = 0; i < scales.Length; i++)
            for (int j = 0; j < columns; j++)
            {
                TValue v = values[i * columns + j];
                float value = typeof(TValue) == typeof(sbyte) ? Unsafe.As<TValue, sbyte>(ref v) : (float)Unsafe.As<TValue, Half>(ref v);
                weights[i * columns + j] = scales[i] * value;
            }
    }

    private static float Largest(ReadOnlySpan<float> row, int index)
    {
        float largest = row.IsEmpty ? 0 : Math.Abs(TensorPrimitives.MaxMagnitude(row));
        return float.IsFinite(largest) ? largest : throw new ArgumentException($"Row {index} has a weight that is not finite.");
    }

    private static void Check(ReadOnlySpan<float> weights, int rows, int columns, int values, int scales)
    {
        if (weights.Length != (long)rows * columns || values != weights.Length || scales != rows)
            throw new ArgumentException($"Expected {(long)rows * columns} weights and values and {rows} scales.");
    }
}
