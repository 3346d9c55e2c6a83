namespace Dopant.Inference;

/// <summary>The embedding of the streaming runtime: one row per token, widened to floats.</summary>
internal interface IEmbeddingRows
{
    /// <summary>Vocabulary size V.</summary>
    int Rows { get; }

    /// <summary>Row width E.</summary>
    int Dimension { get; }

    /// <summary>Bytes one row read touches (for a compressed form, the table's bytes shared out over its rows).</summary>
    long RowBytes { get; }

    /// <summary>Bytes of the whole table as the runtime holds it.</summary>
    long TableBytes { get; }

    /// <summary>Writes row <paramref name="row"/> (E floats) into <paramref name="destination"/>.</summary>
    void CopyRow(int row, Span<float> destination);
}
