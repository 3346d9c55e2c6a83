using System.Buffers;
using System.Numerics;
using Dopant.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// The kept entries of a mostly pruned matrix, indexed both by row and by column, so that its training passes cost one
/// multiply-add over the batch per kept entry instead of a dense product: forward y = x·Wᵀ by rows, the input gradient
/// dx = dy·W by columns, and the weight gradient as dot products on the kept entries only. The values are read from the
/// dense array at every pass (the optimizer moves them); the pattern is rebuilt when the mask changes.
/// </summary>
internal sealed class SparseTrainingPattern<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int _rows, _columns;
    private readonly int[] _rowPointers, _rowColumns, _rowPositions;         // by row: column and flat position of each entry
    private readonly int[] _columnPointers, _columnRows, _columnPositions;   // by column: row and flat position of each entry

    public SparseTrainingPattern(ReadOnlySpan<T> mask, int rows, int columns)
    {
        (_rows, _columns) = (rows, columns);
        int kept = 0;
        foreach (T m in mask) if (!T.IsZero(m)) kept++;
        (_rowPointers, _rowColumns, _rowPositions) = (new int[rows + 1], new int[kept], new int[kept]);
        (_columnPointers, _columnRows, _columnPositions) = (new int[columns + 1], new int[kept], new int[kept]);
        int at = 0;
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
                if (!T.IsZero(mask[i * columns + j]))
                {
                    (_rowColumns[at], _rowPositions[at]) = (j, i * columns + j);
                    _columnPointers[j + 1]++;
                    at++;
                }
            _rowPointers[i + 1] = at;
        }
        for (int j = 0; j < columns; j++) _columnPointers[j + 1] += _columnPointers[j];
        int[] next = _columnPointers[..columns];
        for (int i = 0; i < rows; i++)
            for (int k = _rowPointers[i]; k < _rowPointers[i + 1]; k++)
            {
                int slot = next[_rowColumns[k]]++;
                (_columnRows[slot], _columnPositions[slot]) = (i, _rowPositions[k]);
            }
    }

    /// <summary>How many entries are kept.</summary>
    public int Kept => _rowColumns.Length;

    /// <summary>y[count × rows] (+)= x[count × columns] · Wᵀ over the kept entries of <paramref name="weights"/>.</summary>
    public void Forward(ReadOnlySpan<T> weights, ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate) =>
        Product(weights, _rowPointers, _rowColumns, _rowPositions, x, _columns, y, _rows, count, accumulate);

    /// <summary>dx[count × columns] (+)= dy[count × rows] · W over the kept entries of <paramref name="weights"/>.</summary>
    public void BackwardInput(ReadOnlySpan<T> weights, ReadOnlySpan<T> dy, Span<T> dx, int count, bool accumulate) =>
        Product(weights, _columnPointers, _columnRows, _columnPositions, dy, _rows, dx, _columns, count, accumulate);

    /// <summary>gradient[position] += Σ_b dy[b, i] · x[b, j] for every kept entry (i, j); pruned entries are left alone.</summary>
    public void AccumulateGradients(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count, Span<T> gradient)
    {
        T[] xs = ArrayPool<T>.Shared.Rent(count * _columns), dys = ArrayPool<T>.Shared.Rent(count * _rows), dots = ArrayPool<T>.Shared.Rent(Math.Max(Kept, 1));
        try
        {
            SparseBatchKernels.Transpose(x[..(count * _columns)], xs, count, _columns);
            SparseBatchKernels.Transpose(dy[..(count * _rows)], dys, count, _rows);
            Span<T> values = dots.AsSpan(0, Kept);
            values.Clear();
            SparseBatchKernels.SampledDots<T>(_rowColumns, _rowPointers, dys.AsSpan(0, count * _rows), xs.AsSpan(0, count * _columns), count, values);
            for (int k = 0; k < values.Length; k++) gradient[_rowPositions[k]] += values[k];
        }
        finally
        {
            ArrayPool<T>.Shared.Return(xs);
            ArrayPool<T>.Shared.Return(dys);
            ArrayPool<T>.Shared.Return(dots);
        }
    }

    // output[count × outputs] (+)= input[count × inputs] through the entries grouped by output index.
    private void Product(ReadOnlySpan<T> weights, int[] pointers, int[] indices, int[] positions, ReadOnlySpan<T> input, int inputs,
        Span<T> output, int outputs, int count, bool accumulate)
    {
        T[] values = ArrayPool<T>.Shared.Rent(Math.Max(Kept, 1)), batchInputs = ArrayPool<T>.Shared.Rent(count * inputs), batchOutputs = ArrayPool<T>.Shared.Rent(count * outputs);
        try
        {
            for (int k = 0; k < positions.Length; k++) values[k] = weights[positions[k]];
            SparseBatchKernels.Transpose(input[..(count * inputs)], batchInputs, count, inputs);
            SparseBatchKernels.RowsFromRows<T>(values.AsSpan(0, Kept), indices, pointers, batchInputs.AsSpan(0, count * inputs), batchOutputs.AsSpan(0, count * outputs), count, accumulate: false);
            SparseBatchKernels.Transpose(batchOutputs.AsSpan(0, count * outputs), output, outputs, count, accumulate);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(values);
            ArrayPool<T>.Shared.Return(batchInputs);
            ArrayPool<T>.Shared.Return(batchOutputs);
        }
    }
}
