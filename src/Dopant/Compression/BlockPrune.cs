using Dopant.Matrices;

namespace Dopant.Compression;

/// <summary>
/// Block pruning (Condensa's <c>BlockPrune</c>): every matrix is tiled by <see cref="Block"/> (the blocks on the right and
/// bottom edges may be partial), every block of every weight projected together is scored by <see cref="Criterion"/>
/// (size-normalized, so edge blocks compete fairly), and the <see cref="Density"/> fraction of blocks with the largest
/// scores is kept under one global threshold.
/// </summary>
public sealed class BlockPrune : ICompressionOperator
{
    /// <summary>Creates the operator.</summary>
    /// <param name="density">The fraction of blocks kept, in (0, 1].</param>
    /// <param name="block">The block shape, such as 16x1 (16 rows of one column).</param>
    /// <param name="criterion">How blocks are scored.</param>
    public BlockPrune(double density, BlockShape block, StructureCriterion criterion = StructureCriterion.L2)
    {
        if (!(density > 0 && density <= 1)) throw new ArgumentOutOfRangeException(nameof(density), $"block prune: density must be in (0, 1] (got {density}).");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(block.Rows, nameof(block));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(block.Columns, nameof(block));
        if (block.HasLooseEntries) throw new ArgumentException($"block prune: {block} has loose entries, which only doping and --block support.", nameof(block));
        if (block.HasTiles) throw new ArgumentException($"block prune: {block} is balanced in tiles, which only doping and --block support.", nameof(block));
        Density = density;
        Block = block;
        Criterion = criterion;
    }

    /// <summary>The fraction of blocks kept.</summary>
    public double Density { get; }

    /// <summary>The block shape.</summary>
    public BlockShape Block { get; }

    /// <summary>How blocks are scored.</summary>
    public StructureCriterion Criterion { get; }

    /// <inheritdoc/>
    public string Description => $"block_prune(density={Density:G4}, block={Block}, criterion={Criterion.ToString().ToLowerInvariant()})";

    /// <inheritdoc/>
    public void Project(IReadOnlyList<CompressibleWeight> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var scores = new List<double>();
        foreach (CompressibleWeight w in weights)
        {
            (int blockRows, int blockColumns) = Block.GridFor(w.Rows, w.Columns);
            for (int bi = 0; bi < blockRows; bi++)
                for (int bj = 0; bj < blockColumns; bj++)
                {
                    var score = new StructureScore(Criterion);
                    ForEachInBlock(w, bi, bj, index => score.Add(w.Values[index]));
                    scores.Add(score.Value);
                }
        }
        var kept = new bool[scores.Count];
        LargestScores.Select(scores.ToArray(), LargestScores.CountFor(Density, scores.Count), kept);
        int offset = 0;
        foreach (CompressibleWeight w in weights)
        {
            (int blockRows, int blockColumns) = Block.GridFor(w.Rows, w.Columns);
            for (int bi = 0; bi < blockRows; bi++)
                for (int bj = 0; bj < blockColumns; bj++)
                    if (!kept[offset++]) ForEachInBlock(w, bi, bj, index => w.Values[index] = 0);
        }
    }

    private void ForEachInBlock(CompressibleWeight w, int blockRow, int blockColumn, Action<int> visit)
    {
        int rowEnd = Math.Min(w.Rows, (blockRow + 1) * Block.Rows), columnEnd = Math.Min(w.Columns, (blockColumn + 1) * Block.Columns);
        for (int i = blockRow * Block.Rows; i < rowEnd; i++)
            for (int j = blockColumn * Block.Columns; j < columnEnd; j++) visit(i * w.Columns + j);
    }

    /// <summary>Every block with a nonzero entry, stored whole, with one column index per block (block CSR).</summary>
    public StorageEstimate Account(CompressibleWeight weight, StorageEstimate before)
    {
        ArgumentNullException.ThrowIfNull(weight);
        (int blockRows, int blockColumns) = Block.GridFor(weight.Rows, weight.Columns);
        long blocks = 0, values = 0;
        for (int bi = 0; bi < blockRows; bi++)
            for (int bj = 0; bj < blockColumns; bj++)
            {
                int size = 0;
                bool any = false;
                ForEachInBlock(weight, bi, bj, index =>
                {
                    size++;
                    any |= weight.Values[index] != 0;
                });
                if (!any) continue;
                blocks++;
                values += size;
            }
        return before with { Values = values, IndexBytes = StorageEstimate.CsrIndexBytes(blocks, blockRows, blockColumns) };
    }
}
