using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>
/// An embedding whose table is pruned, or doped (a structured part plus a sparse S), held at int8: S's rows in CSR with
/// 8-bit values, one scale a row and 16-bit columns (3 bytes an entry instead of 8), the structured part as its form.
/// A token's row is the structured row plus its S entries.
/// </summary>
internal sealed class QuantizedSparseEmbeddingRows : IEmbeddingRows
{
    private readonly FormEmbeddingRows? _structure;
    private readonly int[] _starts;
    private readonly ushort[] _columns;
    private readonly sbyte[] _values;
    private readonly float[] _scales;

    /// <summary>Whether a table of <paramref name="form"/>'s kind and width can be held this way.</summary>
    public static bool Supports(IWeightMatrix<float> form) =>
        form.Columns <= ushort.MaxValue + 1 && form is PrunedMatrix<float> { Block.IsElement: true } or DopedMatrix<float> { SparseEnabled: true, Sparse.Block.IsElement: true };

    public QuantizedSparseEmbeddingRows(IWeightMatrix<float> form, string name)
    {
        if (!Supports(form)) throw new ArgumentException($"The embedding's form {WeightForms.Describe(form).ToJson()} has no int8 sparse rows.", nameof(form));
        PrunedMatrix<float> sparse = form as PrunedMatrix<float> ?? ((DopedMatrix<float>)form).Sparse;
        if (form is DopedMatrix<float> doped) _structure = new FormEmbeddingRows(doped.Structure, name);
        CsrMatrix<float> csr = sparse.ToCsr();
        Rows = form.Rows;
        Dimension = form.Columns;
        _starts = csr.RowPointers.ToArray();
        _columns = [.. csr.ColumnIndices[..csr.NonZeroCount].ToArray().Select(c => (ushort)c)];
        _values = new sbyte[csr.NonZeroCount];
        _scales = new float[Rows];
        for (int i = 0; i < Rows; i++)
        {
            int start = _starts[i], length = _starts[i + 1] - start;
            RowQuantization.ToInt8(csr.Values.Slice(start, length), 1, length, _values.AsSpan(start, length), _scales.AsSpan(i, 1));
        }
    }

    public int Rows { get; }

    public int Dimension { get; }

    /// <summary>The table's bytes shared out over its rows.</summary>
    public long RowBytes => (TableBytes + Rows - 1) / Rows;

    /// <summary>The structured part's bytes, and S's values, columns, row starts and scales.</summary>
    public long TableBytes => (_structure?.TableBytes ?? 0) + _values.Length + 2L * _columns.Length + 4L * (_starts.Length + _scales.Length);

    public void CopyRow(int row, Span<float> destination)
    {
        if (_structure is null) destination[..Dimension].Clear();
        else _structure.CopyRow(row, destination);
        float scale = _scales[row];
        for (int k = _starts[row]; k < _starts[row + 1]; k++) destination[_columns[k]] += scale * _values[k];
    }
}
