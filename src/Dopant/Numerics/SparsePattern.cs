using System.Numerics;

namespace Dopant.Numerics;

/// <summary>
/// The kept entries of a rows × columns mask, indexed both by rows (CSR) and by columns (CSC), with each entry's
/// position in the row-major matrix: what <see cref="SparseTrainingKernels"/> needs to run the forward product by rows,
/// the backward product by columns (no two threads writing one output), and to gather values or scatter gradients
/// between the dense matrix and the entries.
/// </summary>
public sealed class SparsePattern
{
    /// <summary>Indexes the entries of <paramref name="mask"/> (row-major, rows × columns) that are not zero.</summary>
    public static SparsePattern FromMask<T>(ReadOnlySpan<T> mask, int rows, int columns) where T : INumberBase<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if (mask.Length != (long)rows * columns) throw new ArgumentException($"A {rows}×{columns} mask needs {(long)rows * columns} values, got {mask.Length}.", nameof(mask));
        int kept = 0;
        foreach (T m in mask) if (!T.IsZero(m)) kept++;
        var pattern = new SparsePattern(rows, columns, kept);
        var perColumn = new int[columns + 1];
        for (int i = 0, k = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                if (T.IsZero(mask[i * columns + j])) continue;
                pattern.ColumnIndices[k] = j;
                pattern.Positions[k] = i * columns + j;
                perColumn[j + 1]++;
                k++;
            }
            pattern.RowPointers[i + 1] = k;
        }
        for (int j = 0; j < columns; j++) perColumn[j + 1] += perColumn[j];
        perColumn.CopyTo(pattern.ColumnPointers, 0);
        // Row-major order within each column, so every column's terms are summed by increasing row.
        for (int i = 0; i < rows; i++)
            for (int k = pattern.RowPointers[i]; k < pattern.RowPointers[i + 1]; k++)
            {
                int j = pattern.ColumnIndices[k], at = perColumn[j]++;
                pattern.RowIndices[at] = i;
                pattern.ColumnPositions[at] = pattern.Positions[k];
            }
        return pattern;
    }

    private SparsePattern(int rows, int columns, int nonZeros)
    {
        Rows = rows;
        Columns = columns;
        NonZeros = nonZeros;
        RowPointers = new int[rows + 1];
        ColumnIndices = new int[nonZeros];
        Positions = new int[nonZeros];
        ColumnPointers = new int[columns + 1];
        RowIndices = new int[nonZeros];
        ColumnPositions = new int[nonZeros];
    }

    /// <summary>Rows of the matrix.</summary>
    public int Rows { get; }

    /// <summary>Columns of the matrix.</summary>
    public int Columns { get; }

    /// <summary>The kept entries.</summary>
    public int NonZeros { get; }

    /// <summary>CSR: the entries of row i are [RowPointers[i], RowPointers[i + 1]).</summary>
    public int[] RowPointers { get; }

    /// <summary>CSR: each entry's column.</summary>
    public int[] ColumnIndices { get; }

    /// <summary>CSR: each entry's row-major position i·Columns + j.</summary>
    public int[] Positions { get; }

    /// <summary>CSC: the entries of column j are [ColumnPointers[j], ColumnPointers[j + 1]).</summary>
    public int[] ColumnPointers { get; }

    /// <summary>CSC: each entry's row.</summary>
    public int[] RowIndices { get; }

    /// <summary>CSC: each entry's row-major position.</summary>
    public int[] ColumnPositions { get; }

    /// <summary>values[k] = dense[positions[k]] for every entry k (CSR order with <see cref="Positions"/>, CSC with <see cref="ColumnPositions"/>).</summary>
    public static void Gather(ReadOnlySpan<float> dense, ReadOnlySpan<int> positions, Span<float> values)
    {
        for (int k = 0; k < positions.Length; k++) values[k] = dense[positions[k]];
    }
}
