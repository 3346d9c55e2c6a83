using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Numerics.Tensors;
using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>
/// A dense W stored in 8-bit integers or 16-bit floats (<typeparamref name="TValue"/>: <see cref="sbyte"/> or
/// <see cref="Half"/>) with one float scale per row: W[i, j] ≈ scale[i]·value[i, j]. A product reads a quarter or half
/// of the fp32 bytes, widens the values to floats in registers, and splits its rows over two threads when large.
/// </summary>
internal sealed class RowScaledStepMatrix<TValue> : IStepMatrix where TValue : unmanaged
{
    // As Blas.Sgemv: splitting pays once the weights are past the L2 cache.
    private const long ParallelBytes = 1L << 20;
    private const int Chunk = 256;

    private readonly TValue[] _values;
    private readonly float[] _scales;

    /// <summary>Quantizes W (row-major <paramref name="rows"/> × <paramref name="columns"/>) row by row.</summary>
    public RowScaledStepMatrix(ReadOnlySpan<float> weights, int rows, int columns)
    {
        if (typeof(TValue) != typeof(sbyte) && typeof(TValue) != typeof(Half))
            throw new NotSupportedException($"{typeof(TValue).Name} weights; expected sbyte or Half.");
        if (weights.Length != (long)rows * columns) throw new ArgumentException($"Expected {(long)rows * columns} weights, got {weights.Length}.", nameof(weights));
        Rows = rows;
        Columns = columns;
        _values = new TValue[(long)rows * columns];
        _scales = new float[rows];
        if (typeof(TValue) == typeof(sbyte)) RowQuantization.ToInt8(weights, rows, columns, MemoryMarshal.Cast<TValue, sbyte>(_values.AsSpan()), _scales);
        else RowQuantization.ToFloat16(weights, rows, columns, MemoryMarshal.Cast<TValue, Half>(_values.AsSpan()), _scales);
    }

    public int Rows { get; }

    public int Columns { get; }

    public bool SplitsOverThreads => true;

    /// <summary>The values and the per-row scales.</summary>
    public long WeightBytes => (long)_values.Length * Unsafe.SizeOf<TValue>() + (long)_scales.Length * sizeof(float);

    /// <summary>W[i, j] as this matrix computes with it: scale[i]·value[i, j].</summary>
    public float this[int row, int column] =>
        _scales[row] * (typeof(TValue) == typeof(sbyte) ? Unsafe.As<TValue, sbyte>(ref _values[(long)row * Columns + column])
            : (float)Unsafe.As<TValue, Half>(ref _values[(long)row * Columns + column]));

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length < Columns || y.Length < Rows) throw new ArgumentException($"Expected x of {Columns} and y of {Rows}.");
        var job = new RowsJob(this, x, y);
        if (WeightBytes >= ParallelBytes && WorkerPool.Shared is { ThreadCount: > 1 } pool && !WorkerPool.IsInsideLoop)
            pool.For(Rows, job, 2);
        else job.Invoke(0, Rows);
    }

    private unsafe void MultiplyRows(ReadOnlySpan<float> x, Span<float> y, int start, int end)
    {
        int n = Columns;
        Span<float> widened = stackalloc float[Chunk];
        fixed (TValue* values = _values)
        fixed (float* xs = x)
            for (int i = start; i < end; i++)
            {
                TValue* row = values + (long)i * n;
                float sum;
                if (typeof(TValue) == typeof(sbyte) && Avx2.IsSupported && Fma.IsSupported) sum = DotInt8Avx2((sbyte*)row, xs, n);
                else if (typeof(TValue) == typeof(Half) && Avx2.IsSupported && Fma.IsSupported) sum = DotHalfAvx2((ushort*)row, xs, n);
                else
                {
                    sum = 0;
                    for (int j = 0; j < n; j += Chunk)
                    {
                        int length = Math.Min(Chunk, n - j);
                        Span<float> part = widened[..length];
                        if (typeof(TValue) == typeof(Half)) TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>((Half*)row + j, length), part);
                        else for (int k = 0; k < length; k++) part[k] = ((sbyte*)row)[j + k];
                        sum += TensorPrimitives.Dot(part, x.Slice(j, length));
                    }
                }
                y[i] += _scales[i] * sum;
            }
    }

    private static unsafe float DotInt8Avx2(sbyte* row, float* x, int n)
    {
        Vector256<float> s0 = Vector256<float>.Zero, s1 = Vector256<float>.Zero, s2 = Vector256<float>.Zero, s3 = Vector256<float>.Zero;
        int j = 0;
        for (; j + 32 <= n; j += 32)
        {
            s0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(row + j)), Avx.LoadVector256(x + j), s0);
            s1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(row + j + 8)), Avx.LoadVector256(x + j + 8), s1);
            s2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(row + j + 16)), Avx.LoadVector256(x + j + 16), s2);
            s3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(row + j + 24)), Avx.LoadVector256(x + j + 24), s3);
        }
        for (; j + 8 <= n; j += 8)
            s0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(row + j)), Avx.LoadVector256(x + j), s0);
        float sum = Vector256.Sum((s0 + s1) + (s2 + s3));
        for (; j < n; j++) sum += row[j] * x[j];
        return sum;
    }

    private static unsafe float DotHalfAvx2(ushort* row, float* x, int n)
    {
        Vector256<float> s0 = Vector256<float>.Zero, s1 = Vector256<float>.Zero;
        int j = 0;
        for (; j + 16 <= n; j += 16)
        {
            s0 = Fma.MultiplyAdd(HalfVectors.Widen(row + j), Avx.LoadVector256(x + j), s0);
            s1 = Fma.MultiplyAdd(HalfVectors.Widen(row + j + 8), Avx.LoadVector256(x + j + 8), s1);
        }
        for (; j + 8 <= n; j += 8) s0 = Fma.MultiplyAdd(HalfVectors.Widen(row + j), Avx.LoadVector256(x + j), s0);
        float sum = Vector256.Sum(s0 + s1);
        for (; j < n; j++) sum += (float)BitConverter.UInt16BitsToHalf(row[j]) * x[j];
        return sum;
    }

    private readonly ref struct RowsJob(RowScaledStepMatrix<TValue> matrix, ReadOnlySpan<float> x, Span<float> y) : IRangeBody
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _y = y;

        public void Invoke(int start, int end) => matrix.MultiplyRows(_x, _y, start, end);
    }
}
