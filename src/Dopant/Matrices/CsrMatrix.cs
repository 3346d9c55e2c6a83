using System.Numerics;
using System.Runtime.CompilerServices;
using Dopant.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// An immutable sparse matrix S (<see cref="Rows"/> × <see cref="Columns"/>) in compressed sparse row form: the entries
/// of row i are k in [RowPointers[i], RowPointers[i + 1]), with value Values[k] in column ColumnIndices[k], columns
/// strictly increasing within a row. Products run through <see cref="SparseKernels"/>.
/// </summary>
public sealed class CsrMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _values;
    private readonly int[] _columnIndices;
    private readonly int[] _rowPointers;

    /// <summary>Creates a CSR matrix from copies of its three arrays, after checking that they form a valid CSR structure.</summary>
    /// <param name="rows">The number of rows m.</param>
    /// <param name="columns">The number of columns n.</param>
    /// <param name="values">The stored values, one per entry.</param>
    /// <param name="columnIndices">The column of each entry, strictly increasing within a row.</param>
    /// <param name="rowPointers">m + 1 non-decreasing offsets from 0 to the number of entries.</param>
    public CsrMatrix(int rows, int columns, ReadOnlySpan<T> values, ReadOnlySpan<int> columnIndices, ReadOnlySpan<int> rowPointers)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if (rowPointers.Length != rows + 1)
            throw new ArgumentException($"A CSR matrix of {rows} rows needs {rows + 1} row pointers, got {rowPointers.Length}.", nameof(rowPointers));
        if (values.Length != columnIndices.Length)
            throw new ArgumentException($"There are {values.Length} values but {columnIndices.Length} column indices.", nameof(columnIndices));
        if (rowPointers[0] != 0 || rowPointers[rows] != values.Length)
            throw new ArgumentException($"The row pointers must run from 0 to the number of entries {values.Length}.", nameof(rowPointers));
        for (int i = 0; i < rows; i++)
        {
            int begin = rowPointers[i], end = rowPointers[i + 1];
            if (end < begin)
                throw new ArgumentException($"Row pointer {i + 1} ({end}) is below row pointer {i} ({begin}).", nameof(rowPointers));
            for (int k = begin; k < end; k++)
            {
                int j = columnIndices[k];
                if ((uint)j >= (uint)columns)
                    throw new ArgumentOutOfRangeException(nameof(columnIndices), j, $"Entry {k} of row {i} has a column outside [0, {columns}).");
                if (k > begin && j <= columnIndices[k - 1])
                    throw new ArgumentException($"The columns of row {i} are not strictly increasing at entry {k}.", nameof(columnIndices));
            }
        }
        Rows = rows;
        Columns = columns;
        _values = values.ToArray();
        _columnIndices = columnIndices.ToArray();
        _rowPointers = rowPointers.ToArray();
    }

    private CsrMatrix(int rows, int columns, T[] values, int[] columnIndices, int[] rowPointers)
    {
        Rows = rows;
        Columns = columns;
        _values = values;
        _columnIndices = columnIndices;
        _rowPointers = rowPointers;
    }

    /// <summary>The number of rows m.</summary>
    public int Rows { get; }

    /// <summary>The number of columns n.</summary>
    public int Columns { get; }

    /// <summary>The number of stored entries.</summary>
    public int NonZeroCount => _values.Length;

    /// <summary>The stored values, in row order.</summary>
    public ReadOnlySpan<T> Values => _values;

    /// <summary>The column of each stored value.</summary>
    public ReadOnlySpan<int> ColumnIndices => _columnIndices;

    /// <summary>The Rows + 1 offsets of the rows' entries.</summary>
    public ReadOnlySpan<int> RowPointers => _rowPointers;

    /// <summary>
    /// Bytes of the CSR form: the values at <typeparamref name="T"/> precision, one 32-bit column index per value and
    /// Rows + 1 32-bit row pointers.
    /// </summary>
    public long StorageBytes => StorageBytesFor(Rows, NonZeroCount, Unsafe.SizeOf<T>());

    /// <summary>The CSR storage of <paramref name="nonZeros"/> values of <paramref name="valueBytes"/> bytes in <paramref name="rows"/> rows.</summary>
    internal static long StorageBytesFor(int rows, long nonZeros, int valueBytes) =>
        nonZeros * (valueBytes + sizeof(int)) + ((long)rows + 1) * sizeof(int);

    /// <summary>
    /// The entries of <paramref name="dense"/> (row-major, <paramref name="rows"/> × <paramref name="columns"/>) where
    /// <paramref name="mask"/> is not zero; a kept entry is stored even when its value is zero, so the pattern is the mask's.
    /// </summary>
    public static CsrMatrix<T> FromMasked(ReadOnlySpan<T> dense, ReadOnlySpan<T> mask, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        long length = (long)rows * columns;
        if (dense.Length != length)
            throw new ArgumentException($"Expected {length} dense values for {rows}×{columns}, got {dense.Length}.", nameof(dense));
        if (mask.Length != length)
            throw new ArgumentException($"Expected {length} mask values for {rows}×{columns}, got {mask.Length}.", nameof(mask));
        int nonZeros = 0;
        foreach (T keep in mask)
            if (!T.IsZero(keep)) nonZeros++;
        var values = new T[nonZeros];
        var columnIndices = new int[nonZeros];
        var rowPointers = new int[rows + 1];
        int next = 0;
        for (int i = 0; i < rows; i++)
        {
            int offset = i * columns;
            for (int j = 0; j < columns; j++)
            {
                if (T.IsZero(mask[offset + j])) continue;
                values[next] = dense[offset + j];
                columnIndices[next] = j;
                next++;
            }
            rowPointers[i + 1] = next;
        }
        return new CsrMatrix<T>(rows, columns, values, columnIndices, rowPointers);
    }

    /// <summary>The entries of <paramref name="dense"/> (row-major, <paramref name="rows"/> × <paramref name="columns"/>) that are not zero.</summary>
    public static CsrMatrix<T> FromDense(ReadOnlySpan<T> dense, int rows, int columns) => FromMasked(dense, dense, rows, columns);

    /// <summary>y[count×Rows] = x[count×Columns] · Sᵀ, or += when <paramref name="accumulate"/>.</summary>
    public void MultiplyByTranspose(ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate) =>
        SparseKernels.MultiplyByTranspose<T>(_values, _columnIndices, _rowPointers, Rows, Columns, x, y, count, accumulate);

    /// <summary>dx[count×Columns] = dy[count×Rows] · S, or += when <paramref name="accumulate"/>.</summary>
    public void Multiply(ReadOnlySpan<T> dy, Span<T> dx, int count, bool accumulate) =>
        SparseKernels.Multiply<T>(_values, _columnIndices, _rowPointers, Rows, Columns, dy, dx, count, accumulate);

    /// <summary>
    /// valueGradients[k] += ∂L/∂Values[k] = Σ_b dy[b, i] · x[b, ColumnIndices[k]] for the loss L whose gradient with
    /// respect to y = x·Sᵀ is <paramref name="dy"/>; only stored entries get a gradient.
    /// </summary>
    public void AccumulateValueGradients(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count, Span<T> valueGradients) =>
        SparseKernels.AccumulateValueGradients(_columnIndices, _rowPointers, Rows, Columns, x, dy, count, valueGradients);

    /// <summary>The matrix as a dense row-major array, zero outside the stored entries.</summary>
    public T[] ToDense()
    {
        var dense = new T[(long)Rows * Columns];
        for (int i = 0; i < Rows; i++)
            for (int k = _rowPointers[i]; k < _rowPointers[i + 1]; k++)
                dense[i * Columns + _columnIndices[k]] = _values[k];
        return dense;
    }
}
