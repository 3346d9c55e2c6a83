using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        if (src.Length < (long)n * m || dst.Length < (long)n * m) throw new ArgumentException($"Transposing {n}×{m} needs {(long)n * m} values.");
        const int Tile = 32;
        for (int i0 = 0; i0 < n; i0 += Tile)
            for (int j0 = 0; j0 < m; j0 += Tile)
            {
                int i1 = Math.Min(n, i0 + Tile), j1 = Math.Min(m, j0 + Tile);
                for (int j = j0; j < j1; j++)
                {
                    Span<float> row = dst.Slice(j * n, n);
                    if (accumulate)
                        for (int i = i0; i < i1; i++) row[i] += src[i * m + j];
                    else
                        for (int i = i0; i < i1; i++) row[i] = src[i * m + j];
                }
            }
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
            for (int i = start; i < end; i++)
            {
                Span<float> target = _output.Slice(i * count, count);
                target.Clear();
                ref float t = ref MemoryMarshal.GetReference(target);
                for (int k = _pointers[i], stop = _pointers[i + 1]; k < stop; k++)
                    AddScaled(ref t, ref Unsafe.Add(ref input, (nint)_indices[k] * count), _values[k], count);
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
            for (int i = start; i < end; i++)
            {
                ref float row = ref Unsafe.Add(ref dy, (nint)i * count);
                for (int k = _pointers[i], stop = _pointers[i + 1]; k < stop; k++)
                    _gradients[k] += Dot(ref row, ref Unsafe.Add(ref x, (nint)_columns[k] * count), count);
            }
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
