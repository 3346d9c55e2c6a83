using System.Numerics;

namespace Dopant.Numerics;

/// <summary>
/// Products of a sparse matrix S (rows × columns, compressed sparse rows) with row-major batches of dense vectors:
/// the forward product x·Sᵀ, the backward product dy·S, and the gradient with respect to the stored values.
/// </summary>
/// <remarks>
/// <para>
/// S is given by its three CSR arrays: the entries of row i are k in [rowPointers[i], rowPointers[i + 1]), with value
/// values[k] in column columnIndices[k]. The kernels check span lengths but trust the structure (non-decreasing row
/// pointers from 0, column indices in [0, columns)); <c>CsrMatrix</c> validates it once when it is built.
/// </para>
/// <para>
/// Every output element is computed by one range of one loop, summing its terms in a fixed order, so results do not
/// depend on the number of threads. Small products run on the calling thread.
/// </para>
/// </remarks>
public static class SparseKernels
{
    // Below this many multiply-adds a loop is not worth a dispatch to the pool.
    private const long ParallelThreshold = 1 << 15;

    /// <summary>
    /// y[count × rows] = x[count × columns] · Sᵀ, or += when <paramref name="accumulate"/>:
    /// y[b, i] (+)= Σ_k values[k] · x[b, columnIndices[k]] over the entries k of row i. Parallel over the rows of S.
    /// </summary>
    public static void MultiplyByTranspose<T>(ReadOnlySpan<T> values, ReadOnlySpan<int> columnIndices, ReadOnlySpan<int> rowPointers,
        int rows, int columns, ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nonZeros = CheckStructure(values, columnIndices, rowPointers, rows, columns);
        CheckBatch(x.Length, columns, y.Length, rows, count, nameof(x), nameof(y));
        var body = new ForwardBody<T>(values, columnIndices, rowPointers, rows, columns, x, y, count, accumulate);
        if ((long)count * nonZeros < ParallelThreshold) body.Invoke(0, rows);
        else WorkerPool.Shared.For(rows, body);
    }

    /// <summary>
    /// dx[count × columns] = dy[count × rows] · S, or += when <paramref name="accumulate"/>:
    /// dx[b, columnIndices[k]] (+)= values[k] · dy[b, i] over every entry k (of row i), in entry order. Parallel over samples.
    /// </summary>
    public static void Multiply<T>(ReadOnlySpan<T> values, ReadOnlySpan<int> columnIndices, ReadOnlySpan<int> rowPointers,
        int rows, int columns, ReadOnlySpan<T> dy, Span<T> dx, int count, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nonZeros = CheckStructure(values, columnIndices, rowPointers, rows, columns);
        CheckBatch(dy.Length, rows, dx.Length, columns, count, nameof(dy), nameof(dx));
        var body = new BackwardBody<T>(values, columnIndices, rowPointers, rows, columns, dy, dx, accumulate);
        if ((long)count * nonZeros < ParallelThreshold) body.Invoke(0, count);
        else WorkerPool.Shared.For(count, body);
    }

    /// <summary>
    /// The gradient with respect to the stored values only (a sampled product dyᵀ·x on the pattern of S):
    /// valueGradients[k] += Σ_b dy[b, i] · x[b, columnIndices[k]] for every entry k of row i. Parallel over the rows of S.
    /// </summary>
    public static void AccumulateValueGradients<T>(ReadOnlySpan<int> columnIndices, ReadOnlySpan<int> rowPointers,
        int rows, int columns, ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count, Span<T> valueGradients)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nonZeros = CheckStructure<T>(valueGradients, columnIndices, rowPointers, rows, columns);
        CheckBatch(x.Length, columns, dy.Length, rows, count, nameof(x), nameof(dy));
        var body = new GradientBody<T>(columnIndices, rowPointers, rows, columns, x, dy, count, valueGradients);
        if ((long)count * nonZeros < ParallelThreshold) body.Invoke(0, rows);
        else WorkerPool.Shared.For(rows, body);
    }

    private static int CheckStructure<T>(ReadOnlySpan<T> values, ReadOnlySpan<int> columnIndices, ReadOnlySpan<int> rowPointers, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if (rowPointers.Length != rows + 1)
            throw new ArgumentException($"A CSR matrix of {rows} rows needs {rows + 1} row pointers, got {rowPointers.Length}.", nameof(rowPointers));
        int nonZeros = rowPointers[rows];
        if (rowPointers[0] != 0 || nonZeros < 0)
            throw new ArgumentException("The row pointers must start at 0 and end at the number of stored entries.", nameof(rowPointers));
        if (values.Length < nonZeros || columnIndices.Length < nonZeros)
            throw new ArgumentException($"The row pointers claim {nonZeros} entries; values hold {values.Length} and column indices {columnIndices.Length}.", nameof(values));
        return nonZeros;
    }

    private static void CheckBatch(int inputLength, int inputWidth, int outputLength, int outputWidth, int count, string inputName, string outputName)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (inputLength < (long)count * inputWidth)
            throw new ArgumentException($"Expected at least {(long)count * inputWidth} values ({count}×{inputWidth}), got {inputLength}.", inputName);
        if (outputLength < (long)count * outputWidth)
            throw new ArgumentException($"Expected at least {(long)count * outputWidth} values ({count}×{outputWidth}), got {outputLength}.", outputName);
    }

    private readonly ref struct ForwardBody<T>(ReadOnlySpan<T> values, ReadOnlySpan<int> columnIndices, ReadOnlySpan<int> rowPointers,
        int rows, int columns, ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate) : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<T> _values = values;
        private readonly ReadOnlySpan<int> _columnIndices = columnIndices;
        private readonly ReadOnlySpan<int> _rowPointers = rowPointers;
        private readonly ReadOnlySpan<T> _x = x;
        private readonly Span<T> _y = y;

        public void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                int begin = _rowPointers[i], length = _rowPointers[i + 1] - begin;
                ReadOnlySpan<T> rowValues = _values.Slice(begin, length);
                ReadOnlySpan<int> rowColumns = _columnIndices.Slice(begin, length);
                for (int b = 0; b < count; b++)
                {
                    ReadOnlySpan<T> sample = _x.Slice(b * columns, columns);
                    T sum = T.Zero;
                    for (int k = 0; k < rowValues.Length; k++) sum += rowValues[k] * sample[rowColumns[k]];
                    ref T target = ref _y[b * rows + i];
                    target = accumulate ? target + sum : sum;
                }
            }
        }
    }

    private readonly ref struct BackwardBody<T>(ReadOnlySpan<T> values, ReadOnlySpan<int> columnIndices, ReadOnlySpan<int> rowPointers,
        int rows, int columns, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate) : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<T> _values = values;
        private readonly ReadOnlySpan<int> _columnIndices = columnIndices;
        private readonly ReadOnlySpan<int> _rowPointers = rowPointers;
        private readonly ReadOnlySpan<T> _dy = dy;
        private readonly Span<T> _dx = dx;

        public void Invoke(int start, int end)
        {
            for (int b = start; b < end; b++)
            {
                Span<T> target = _dx.Slice(b * columns, columns);
                if (!accumulate) target.Clear();
                ReadOnlySpan<T> gradient = _dy.Slice(b * rows, rows);
                for (int i = 0; i < rows; i++)
                {
                    T g = gradient[i];
                    for (int k = _rowPointers[i], stop = _rowPointers[i + 1]; k < stop; k++)
                        target[_columnIndices[k]] += _values[k] * g;
                }
            }
        }
    }

    private readonly ref struct GradientBody<T>(ReadOnlySpan<int> columnIndices, ReadOnlySpan<int> rowPointers,
        int rows, int columns, ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count, Span<T> valueGradients) : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<int> _columnIndices = columnIndices;
        private readonly ReadOnlySpan<int> _rowPointers = rowPointers;
        private readonly ReadOnlySpan<T> _x = x;
        private readonly ReadOnlySpan<T> _dy = dy;
        private readonly Span<T> _valueGradients = valueGradients;

        public void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                for (int k = _rowPointers[i], stop = _rowPointers[i + 1]; k < stop; k++)
                {
                    int j = _columnIndices[k];
                    T sum = T.Zero;
                    for (int b = 0; b < count; b++) sum += _dy[b * rows + i] * _x[b * columns + j];
                    _valueGradients[k] += sum;
                }
            }
        }
    }
}
