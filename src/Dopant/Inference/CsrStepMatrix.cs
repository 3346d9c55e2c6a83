using System.Numerics;
using System.Runtime.CompilerServices;
using Dopant.Matrices;

namespace Dopant.Inference;

/// <summary>
/// A sparse W in compressed sparse rows with compact column indices (<typeparamref name="TIndex"/>: 16-bit when the
/// matrix has at most 65,536 columns): y[i] += Σ_k values[k]·x[columns[k]] over row i's entries.
/// </summary>
internal sealed class CsrStepMatrix<TIndex> : IStepMatrix where TIndex : unmanaged, IBinaryInteger<TIndex>, IMinMaxValue<TIndex>
{
    private readonly float[] _values;
    private readonly TIndex[] _columns;
    private readonly int[] _rowPointers;

    public CsrStepMatrix(CsrMatrix<float> csr)
    {
        ArgumentNullException.ThrowIfNull(csr);
        if (csr.Columns - 1 > int.CreateSaturating(TIndex.MaxValue))
            throw new ArgumentException($"{csr.Columns} columns do not fit {typeof(TIndex).Name} indices.", nameof(csr));
        _values = csr.Values.ToArray();
        _columns = new TIndex[csr.NonZeroCount];
        for (int k = 0; k < _columns.Length; k++) _columns[k] = TIndex.CreateTruncating(csr.ColumnIndices[k]);
        _rowPointers = csr.RowPointers.ToArray();
        Rows = csr.Rows;
        Columns = csr.Columns;
    }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>Values, column indices and row pointers.</summary>
    public long WeightBytes => (long)_values.Length * (sizeof(float) + Unsafe.SizeOf<TIndex>()) + (long)_rowPointers.Length * sizeof(int);

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        ReadOnlySpan<float> values = _values;
        ReadOnlySpan<TIndex> columns = _columns;
        for (int i = 0; i < Rows; i++)
        {
            int k = _rowPointers[i], end = _rowPointers[i + 1];
            float s0 = 0, s1 = 0;
            for (; k + 1 < end; k += 2)
            {
                s0 += values[k] * x[int.CreateTruncating(columns[k])];
                s1 += values[k + 1] * x[int.CreateTruncating(columns[k + 1])];
            }
            if (k < end) s0 += values[k] * x[int.CreateTruncating(columns[k])];
            y[i] += s0 + s1;
        }
    }
}
