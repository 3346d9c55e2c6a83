using System.Numerics;
using System.Numerics.Tensors;

namespace Dopant.Numerics;

/// <summary>
/// Sparse products on batch-major operands, for training: a sparse matrix's entries times whole rows of a transposed
/// batch (one vector of <c>count</c> values per input index), so that every entry costs one vectorized multiply-add
/// over the batch instead of a gather per sample. The caller transposes activations in and out.
/// </summary>
/// <remarks>
/// The pattern is given in compressed rows: the entries of output row r are k in [pointers[r], pointers[r + 1]), each
/// with its value and its input index. Each output row is computed by one range of one loop, in entry order, so results
/// do not depend on the number of threads.
/// </remarks>
internal static class SparseBatchKernels
{
    private const long ParallelThreshold = 1 << 15;

    /// <summary>target[r, :] (+)= Σ_k values[k] · source[indices[k], :] for every row r; rows of <paramref name="count"/> values.</summary>
    public static void RowsFromRows<T>(ReadOnlySpan<T> values, ReadOnlySpan<int> indices, ReadOnlySpan<int> pointers,
        ReadOnlySpan<T> source, Span<T> target, int count, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = pointers.Length - 1;
        var body = new RowsBody<T>(values, indices, pointers, source, target, count, accumulate);
        if ((long)count * pointers[rows] < ParallelThreshold) body.Invoke(0, rows);
        else WorkerPool.Shared.For(rows, body);
    }

    /// <summary>output[k] += ⟨left[r, :], right[indices[k], :]⟩ for every entry k of row r: a sampled product on the pattern.</summary>
    public static void SampledDots<T>(ReadOnlySpan<int> indices, ReadOnlySpan<int> pointers, ReadOnlySpan<T> left, ReadOnlySpan<T> right,
        int count, Span<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = pointers.Length - 1;
        var body = new DotsBody<T>(indices, pointers, left, right, count, output);
        if ((long)count * pointers[rows] < ParallelThreshold) body.Invoke(0, rows);
        else WorkerPool.Shared.For(rows, body);
    }

    /// <summary>destination[j, i] = source[i, j] for a <paramref name="rows"/> × <paramref name="columns"/> source (+= when accumulating).</summary>
    public static void Transpose<T>(ReadOnlySpan<T> source, Span<T> destination, int rows, int columns, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int tile = 32;
        for (int i0 = 0; i0 < rows; i0 += tile)
            for (int j0 = 0; j0 < columns; j0 += tile)
            {
                int i1 = Math.Min(i0 + tile, rows), j1 = Math.Min(j0 + tile, columns);
                for (int i = i0; i < i1; i++)
                {
                    ReadOnlySpan<T> row = source.Slice(i * columns, columns);
                    if (accumulate)
                        for (int j = j0; j < j1; j++) destination[j * rows + i] += row[j];
                    else
                        for (int j = j0; j < j1; j++) destination[j * rows + i] = row[j];
                }
            }
    }

    private readonly ref struct RowsBody<T>(ReadOnlySpan<T> values, ReadOnlySpan<int> indices, ReadOnlySpan<int> pointers,
        ReadOnlySpan<T> source, Span<T> target, int count, bool accumulate) : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<T> _values = values, _source = source;
        private readonly ReadOnlySpan<int> _indices = indices, _pointers = pointers;
        private readonly Span<T> _target = target;

        // The row's sums stay in registers, four vectors of the batch at a time, while its entries stream past.
        public void Invoke(int start, int end)
        {
            int width = Vector<T>.Count, block = 4 * width;
            for (int r = start; r < end; r++)
            {
                Span<T> row = _target.Slice(r * count, count);
                int first = _pointers[r], last = _pointers[r + 1], c = 0;
                for (; c + block <= count; c += block)
                {
                    Vector<T> a0 = accumulate ? new Vector<T>(row[c..]) : Vector<T>.Zero, a1 = accumulate ? new Vector<T>(row[(c + width)..]) : Vector<T>.Zero;
                    Vector<T> a2 = accumulate ? new Vector<T>(row[(c + 2 * width)..]) : Vector<T>.Zero, a3 = accumulate ? new Vector<T>(row[(c + 3 * width)..]) : Vector<T>.Zero;
                    for (int k = first; k < last; k++)
                    {
                        var w = new Vector<T>(_values[k]);
                        ReadOnlySpan<T> from = _source.Slice(_indices[k] * count + c, block);
                        a0 += w * new Vector<T>(from);
                        a1 += w * new Vector<T>(from[width..]);
                        a2 += w * new Vector<T>(from[(2 * width)..]);
                        a3 += w * new Vector<T>(from[(3 * width)..]);
                    }
                    a0.CopyTo(row[c..]);
                    a1.CopyTo(row[(c + width)..]);
                    a2.CopyTo(row[(c + 2 * width)..]);
                    a3.CopyTo(row[(c + 3 * width)..]);
                }
                for (; c + width <= count; c += width)
                {
                    Vector<T> a = accumulate ? new Vector<T>(row[c..]) : Vector<T>.Zero;
                    for (int k = first; k < last; k++) a += new Vector<T>(_values[k]) * new Vector<T>(_source.Slice(_indices[k] * count + c, width));
                    a.CopyTo(row[c..]);
                }
                for (; c < count; c++)
                {
                    T sum = accumulate ? row[c] : T.Zero;
                    for (int k = first; k < last; k++) sum += _values[k] * _source[_indices[k] * count + c];
                    row[c] = sum;
                }
            }
        }
    }

    private readonly ref struct DotsBody<T>(ReadOnlySpan<int> indices, ReadOnlySpan<int> pointers, ReadOnlySpan<T> left, ReadOnlySpan<T> right,
        int count, Span<T> output) : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<T> _left = left, _right = right;
        private readonly ReadOnlySpan<int> _indices = indices, _pointers = pointers;
        private readonly Span<T> _output = output;

        public void Invoke(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                ReadOnlySpan<T> row = _left.Slice(r * count, count);
                for (int k = _pointers[r]; k < _pointers[r + 1]; k++)
                    _output[k] += TensorPrimitives.Dot(row, _right.Slice(_indices[k] * count, count));
            }
        }
    }
}
