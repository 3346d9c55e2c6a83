using Dopant.Matrices;

namespace Dopant.Inference;

/// <summary>
/// The embedding of the streaming runtime when the table is in a compressed form: a private copy of the form whose
/// rows are read one token at a time (<see cref="IWeightMatrix{T}.GatherRows"/>), never densified.
/// </summary>
internal sealed class FormEmbeddingRows : IEmbeddingRows
{
    private readonly IWeightMatrix<float> _table;
    private readonly int[] _row = new int[1];

    public FormEmbeddingRows(IWeightMatrix<float> table, string name)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = WeightForms.Create<float>(WeightForms.Describe(table), name, table.Rows, table.Columns);
        foreach ((Parameter<float> source, Parameter<float> copy) in table.Parameters.Zip(_table.Parameters))
            source.Value.CopyTo(copy.Value, 0);
        foreach ((PrunedMatrix<float> source, PrunedMatrix<float> copy) in WeightForms.PrunedParts(table).Zip(WeightForms.PrunedParts(_table)))
            copy.RestoreMask(source.Mask);
    }

    public int Rows => _table.Rows;

    public int Dimension => _table.Columns;

    /// <summary>The form's bytes shared out over its rows (a Kronecker row reads one row of each factor, a low-rank row all of V).</summary>
    public long RowBytes => (_table.StorageBytes + Rows - 1) / Rows;

    /// <summary>The form's bytes.</summary>
    public long TableBytes => _table.StorageBytes;

    public void CopyRow(int row, Span<float> destination)
    {
        _row[0] = row;
        _table.GatherRows(_row, destination);
    }
}
