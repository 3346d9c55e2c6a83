using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dopant.Numerics;

/// <summary>
/// The three training products of a sparse matrix S (rows × columns) with a batch of count vectors, in the batch-minor
/// layout where every vector of a row or column of S lies contiguous over the batch: xᵀ [columns × count],
/// yᵀ [rows × count]. Each stored entry then costs count/16 vector FMAs instead of count scalar ones with gathers, so a
/// pruned matrix trains faster than its dense GEMM once few entries are kept.
/// </summary>
/// <remarks>
/// Every output vector is computed by one range of one loop, summing its terms in entry order, so results do not
/// depend on the number of threads. The structure (<see cref="SparsePattern"/>) is trusted.
/// </remarks>
public static class SparseTrainingKernels
{
    private const long ParallelThreshold = 1 << 16;

    /// <summary>yᵀ[i, :] = Σ values[k] · xᵀ[columns[k], :] over the entries k of row i (CSR order).</summary>
    public static void Forward(SparsePattern pattern, ReadOnlySpan<float> values, ReadOnlySpan<float> xT, Span<float> yT, int count)
    {
        Check(pattern, values.Length, xT.Length, pattern.Columns, yT.Length, pattern.Rows, count);
        var body = new RowsBody(pattern.RowPointers, pattern.ColumnIndices, values, xT, yT, count);
        Run(pattern.Rows, (long)pattern.NonZeros * count, body);
    }

    /// <summary>dxᵀ[j, :] = Σ valuesByColumn[k] · dyᵀ[rowIndices[k], :] over the entries k of column j (CSC order).</summary>
    public static void BackwardInput(SparsePattern pattern, ReadOnlySpan<float> valuesByColumn, ReadOnlySpan<float> dyT, Span<float> dxT, int count)
    {
        Check(pattern, valuesByColumn.Length, dyT.Length, pattern.Rows, dxT.Length, pattern.Columns, count);
        var body = new RowsBody(pattern.ColumnPointers, pattern.RowIndices, valuesByColumn, dyT, dxT, count);
        Run(pattern.Columns, (long)pattern.NonZeros * count, body);
    }

    /// <summary>gradients[k] += dyᵀ[i, :] · xᵀ[columns[k], :] for every entry k (CSR order) of every row i.</summary>
    public static void AccumulateGradients(SparsePattern pattern, ReadOnlySpan<float> xT, ReadOnlySpan<float> dyT, int count, Span<float> gradients)
    {
        Check(pattern, gradients.Length, xT.Length, pattern.Columns, dyT.Length, pattern.Rows, count);
        var body = new GradientBody(pattern.RowPointers, pattern.ColumnIndices, xT, dyT, gradients, count);
        Run(pattern.Rows, (long)pattern.NonZeros * count, body);
    }

    /// <summary>dst[j × n + i] = src[i × m + j]: an n × m row-major matrix transposed (or added when <paramref name="accumulate"/>).</summary>
    public static void Transpose(ReadOnlySpan<float> src, int n, int m, Span<float> dst, bool accumulate = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        if (src.Length < (long)n * m || dst.Length < (long)n * m) throw new ArgumentException($"Transposing {n}×{m} needs {(long)n * m} values.");
        var body = new TransposeBody(src, n, m, dst, accumulate);
        int bands = (m + TransposeBody.Band - 1) / TransposeBody.Band;
        if ((long)n * m < ParallelThreshold) body.Invoke(0, bands);
        else WorkerPool.Shared.For(bands, body);
    }

    private static void Run<TBody>(int items, long work, TBody body) where TBody : struct, IRangeBody, allows ref struct
    {
        if (work < ParallelThreshold) body.Invoke(0, items);
        else WorkerPool.Shared.For(items, body);
    }

    private static void Check(SparsePattern pattern, int values, int input, int inputRows, int output, int outputRows, int count)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (values < pattern.NonZeros) throw new ArgumentException($"The pattern holds {pattern.NonZeros} entries; {values} values given.");
        if (input < (long)inputRows * count || output < (long)outputRows * count)
            throw new ArgumentException($"Expected {inputRows}×{count} inputs and {outputRows}×{count} outputs, got {input} and {output}.");
    }

    // The batch is cut into chunks of 64: a chunk of every input row is a few hundred KB, which stays in the core's L2
    // while the range's entries read it, and a row's output chunk stays in eight vector registers (AVX2 has 16).
    private const int Chunk = 64;

    private static bool Chunked => Vector256.IsHardwareAccelerated;

    // out[i, :] = Σ values[k] · in[index[k], :] over k in [pointers[i], pointers[i + 1]).
    private readonly ref struct RowsBody(ReadOnlySpan<int> pointers, ReadOnlySpan<int> indices, ReadOnlySpan<float> values,
        ReadOnlySpan<float> input, Span<float> output, int count) : IRangeBody
    {
        private readonly ReadOnlySpan<int> _pointers = pointers, _indices = indices;
        private readonly ReadOnlySpan<float> _values = values, _input = input;
        private readonly Span<float> _output = output;

        public void Invoke(int start, int end)
        {
            ref float input = ref MemoryMarshal.GetReference(_input);
            ref float output = ref MemoryMarshal.GetReference(_output);
            ref int indices = ref MemoryMarshal.GetReference(_indices);
            ref float values = ref MemoryMarshal.GetReference(_values);
            int chunked = Chunked ? count - count % Chunk : 0;
            for (int c = 0; c < chunked; c += Chunk)
                for (int i = start; i < end; i++)
                {
                    Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                    for (int k = _pointers[i], stop = _pointers[i + 1]; k < stop; k++)
                    {
                        var v = Vector256.Create(Unsafe.Add(ref values, k));
                        ref float s = ref Unsafe.Add(ref input, (nint)Unsafe.Add(ref indices, k) * count + c);
                        a0 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref s), a0);
                        a1 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref s, 8), a1);
                        a2 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref s, 16), a2);
                        a3 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref s, 24), a3);
                        a4 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref s, 32), a4);
                        a5 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref s, 40), a5);
                        a6 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref s, 48), a6);
                        a7 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref s, 56), a7);
                    }
                    ref float t = ref Unsafe.Add(ref output, (nint)i * count + c);
                    a0.StoreUnsafe(ref t);
                    a1.StoreUnsafe(ref t, 8);
                    a2.StoreUnsafe(ref t, 16);
                    a3.StoreUnsafe(ref t, 24);
                    a4.StoreUnsafe(ref t, 32);
                    a5.StoreUnsafe(ref t, 40);
                    a6.StoreUnsafe(ref t, 48);
                    a7.StoreUnsafe(ref t, 56);
                }
            if (chunked == count) return;
            int rest = count - chunked;
            for (int i = start; i < end; i++)
            {
                ref float t = ref Unsafe.Add(ref output, (nint)i * count + chunked);
                MemoryMarshal.CreateSpan(ref t, rest).Clear();
                for (int k = _pointers[i], stop = _pointers[i + 1]; k < stop; k++)
                    AddScaled(ref t, ref Unsafe.Add(ref input, (nint)Unsafe.Add(ref indices, k) * count + chunked), Unsafe.Add(ref values, k), rest);
            }
        }
    }

    private readonly ref struct GradientBody(ReadOnlySpan<int> pointers, ReadOnlySpan<int> columns, ReadOnlySpan<float> xT,
        ReadOnlySpan<float> dyT, Span<float> gradients, int count) : IRangeBody
    {
        private readonly ReadOnlySpan<int> _pointers = pointers, _columns = columns;
        private readonly ReadOnlySpan<float> _xT = xT, _dyT = dyT;
        private readonly Span<float> _gradients = gradients;

        public void Invoke(int start, int end)
        {
            ref float x = ref MemoryMarshal.GetReference(_xT);
            ref float dy = ref MemoryMarshal.GetReference(_dyT);
            ref int columns = ref MemoryMarshal.GetReference(_columns);
            ref float gradients = ref MemoryMarshal.GetReference(_gradients);
            int chunked = Chunked ? count - count % Chunk : 0;
            for (int c = 0; c < chunked; c += Chunk)
                for (int i = start; i < end; i++)
                {
                    ref float row = ref Unsafe.Add(ref dy, (nint)i * count + c);
                    Vector256<float> d0 = Vector256.LoadUnsafe(ref row), d1 = Vector256.LoadUnsafe(ref row, 8);
                    Vector256<float> d2 = Vector256.LoadUnsafe(ref row, 16), d3 = Vector256.LoadUnsafe(ref row, 24);
                    Vector256<float> d4 = Vector256.LoadUnsafe(ref row, 32), d5 = Vector256.LoadUnsafe(ref row, 40);
                    Vector256<float> d6 = Vector256.LoadUnsafe(ref row, 48), d7 = Vector256.LoadUnsafe(ref row, 56);
                    for (int k = _pointers[i], stop = _pointers[i + 1]; k < stop; k++)
                    {
                        ref float s = ref Unsafe.Add(ref x, (nint)Unsafe.Add(ref columns, k) * count + c);
                        Vector256<float> p0 = Vector256.FusedMultiplyAdd(d4, Vector256.LoadUnsafe(ref s, 32), d0 * Vector256.LoadUnsafe(ref s));
                        Vector256<float> p1 = Vector256.FusedMultiplyAdd(d5, Vector256.LoadUnsafe(ref s, 40), d1 * Vector256.LoadUnsafe(ref s, 8));
                        Vector256<float> p2 = Vector256.FusedMultiplyAdd(d6, Vector256.LoadUnsafe(ref s, 48), d2 * Vector256.LoadUnsafe(ref s, 16));
                        Vector256<float> p3 = Vector256.FusedMultiplyAdd(d7, Vector256.LoadUnsafe(ref s, 56), d3 * Vector256.LoadUnsafe(ref s, 24));
                        Unsafe.Add(ref gradients, k) += Vector256.Sum((p0 + p1) + (p2 + p3));
                    }
                }
            if (chunked == count) return;
            int rest = count - chunked;
            for (int i = start; i < end; i++)
            {
                ref float row = ref Unsafe.Add(ref dy, (nint)i * count + chunked);
                for (int k = _pointers[i], stop = _pointers[i + 1]; k < stop; k++)
                    Unsafe.Add(ref gradients, k) += Dot(ref row, ref Unsafe.Add(ref x, (nint)Unsafe.Add(ref columns, k) * count + chunked), rest);
            }
        }
    }

    // Destination rows in bands of Band (a band each range item), each band filled from src tile by tile; 8 × 8 blocks
    // are transposed in registers where AVX is available.
    private readonly ref struct TransposeBody(ReadOnlySpan<float> src, int n, int m, Span<float> dst, bool accumulate) : IRangeBody
    {
        public const int Band = 16;
        private readonly ReadOnlySpan<float> _src = src;
        private readonly Span<float> _dst = dst;

        public void Invoke(int start, int end)
        {
            ref float src = ref MemoryMarshal.GetReference(_src);
            ref float dst = ref MemoryMarshal.GetReference(_dst);
            for (int band = start; band < end; band++)
            {
                int j0 = band * Band, j1 = Math.Min(m, j0 + Band);
                int i = 0;
                if (Avx.IsSupported)
                    for (; i <= n - 8; i += 8)
                    {
                        int j = j0;
                        for (; j <= j1 - 8; j += 8)
                            Transpose8x8(ref Unsafe.Add(ref src, (nint)i * m + j), m, ref Unsafe.Add(ref dst, (nint)j * n + i), n, accumulate);
                        for (; j < j1; j++)
                            for (int r = i; r < i + 8; r++) Store(ref Unsafe.Add(ref dst, (nint)j * n + r), Unsafe.Add(ref src, (nint)r * m + j));
                    }
                for (; i < n; i++)
                    for (int j = j0; j < j1; j++) Store(ref Unsafe.Add(ref dst, (nint)j * n + i), Unsafe.Add(ref src, (nint)i * m + j));
            }
        }

        private void Store(ref float target, float value)
        {
            if (accumulate) target += value;
            else target = value;
        }

        private static void Transpose8x8(ref float src, int srcStride, ref float dst, int dstStride, bool accumulate)
        {
            Vector256<float> r0 = Vector256.LoadUnsafe(ref src), r1 = Vector256.LoadUnsafe(ref src, (nuint)srcStride);
            Vector256<float> r2 = Vector256.LoadUnsafe(ref src, (nuint)(2 * srcStride)), r3 = Vector256.LoadUnsafe(ref src, (nuint)(3 * srcStride));
            Vector256<float> r4 = Vector256.LoadUnsafe(ref src, (nuint)(4 * srcStride)), r5 = Vector256.LoadUnsafe(ref src, (nuint)(5 * srcStride));
            Vector256<float> r6 = Vector256.LoadUnsafe(ref src, (nuint)(6 * srcStride)), r7 = Vector256.LoadUnsafe(ref src, (nuint)(7 * srcStride));
            Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
            Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
            Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE), s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
            Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE), s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
            Put(Avx.Permute2x128(s0, s4, 0x20), ref dst, 0, accumulate);
            Put(Avx.Permute2x128(s1, s5, 0x20), ref dst, dstStride, accumulate);
            Put(Avx.Permute2x128(s2, s6, 0x20), ref dst, 2 * dstStride, accumulate);
            Put(Avx.Permute2x128(s3, s7, 0x20), ref dst, 3 * dstStride, accumulate);
            Put(Avx.Permute2x128(s0, s4, 0x31), ref dst, 4 * dstStride, accumulate);
            Put(Avx.Permute2x128(s1, s5, 0x31), ref dst, 5 * dstStride, accumulate);
            Put(Avx.Permute2x128(s2, s6, 0x31), ref dst, 6 * dstStride, accumulate);
            Put(Avx.Permute2x128(s3, s7, 0x31), ref dst, 7 * dstStride, accumulate);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put(Vector256<float> column, ref float dst, int offset, bool accumulate)
        {
            if (accumulate) column += Vector256.LoadUnsafe(ref dst, (nuint)offset);
            column.StoreUnsafe(ref dst, (nuint)offset);
        }
    }

    // t[0..n) += a · s[0..n)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddScaled(ref float t, ref float s, float a, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> va = Vector512.Create(a);
            for (; i <= n - 16; i += 16)
                Vector512.FusedMultiplyAdd(va, Vector512.LoadUnsafe(ref s, (nuint)i), Vector512.LoadUnsafe(ref t, (nuint)i)).StoreUnsafe(ref t, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> va = Vector256.Create(a);
            for (; i <= n - 8; i += 8)
                Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref s, (nuint)i), Vector256.LoadUnsafe(ref t, (nuint)i)).StoreUnsafe(ref t, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref t, i) = MathF.FusedMultiplyAdd(a, Unsafe.Add(ref s, i), Unsafe.Add(ref t, i));
    }

    // Σ a[0..n) · b[0..n)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(ref float a, ref float b, int n)
    {
        int i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)i), Vector512.LoadUnsafe(ref b, (nuint)i), acc);
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i), acc);
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, i), Unsafe.Add(ref b, i), sum);
        return sum;
    }
}
