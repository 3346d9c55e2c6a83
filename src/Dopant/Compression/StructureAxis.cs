namespace Dopant.Compression;

/// <summary>Which whole structures of a matrix <see cref="StructurePrune"/> removes.</summary>
public enum StructureAxis
{
    /// <summary>Rows: output units (Condensa's <c>NeuronPrune</c>).</summary>
    Rows,

    /// <summary>Columns: input features (Condensa's <c>FilterPrune</c> for a matrix).</summary>
    Columns,

    /// <summary>Rows and columns under one threshold (Condensa's <c>StructurePrune</c>).</summary>
    Both,
}
