using Dopant.Matrices;

namespace Dopant.Tests.Matrices;

/// <summary>Pruning in blocks: whole blocks go, weakest (root-mean-square) first, and stay gone.</summary>
public class BlockPruningTests
{
    [Fact]
    public void Whole_blocks_are_pruned_in_order_of_their_root_mean_square_until_the_sparsity_is_reached()
    {
        // 5 × 3 in 2×2 blocks: a 3 × 2 grid whose bottom row and right column are cut short (2×1, 1×2, 1×1).
        var m = new PrunedMatrix<double>("w", 5, 3, new BlockShape(2, 2));
        double[] w =
        [
            1, 1,   9,
            1, 1,   9,
            5, 5,   0.5,
            5, 5,   0.5,
            3, 3,   2,
        ];
        w.CopyTo(m.Weight.Value, 0);
        // RMS: block (0,0) 1, (0,1) 9, (1,0) 5, (1,1) 0.5, (2,0) 3, (2,1) 2. Target 6 of 15 entries: (1,1) [2 entries],
        // then (0,0) [4]: 6 pruned.
        Assert.Equal(6, m.PruneToSparsity(6.0 / 15));
        double[] mask = [.. m.Mask];
        Assert.Equal(new double[] { 0, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1 }, mask);
        Assert.Equal(4, m.KeptBlocks());
        // A target between blocks prunes the next whole block, (2,1) then (2,0): at least the sparsity asked for.
        Assert.Equal(1, m.PruneToSparsity(7.0 / 15));
        Assert.Equal(2, m.PruneToSparsity(8.0 / 15));
        Assert.Equal(0, m.PruneToSparsity(0.1));
        Assert.Equal(2, m.KeptBlocks());
        Assert.All(Enumerable.Range(0, 15).Where(k => m.Mask[k] == 0), k => Assert.Equal(0, m.Weight.Value[k]));
        // Values (kept entries) plus a 32-bit index per kept block plus block-row pointers (3 + 1).
        Assert.Equal(6 * 8 + (2 + 4) * 4, m.StorageBytes);
    }

    [Fact]
    public void A_mask_that_splits_a_block_is_refused()
    {
        var m = new PrunedMatrix<float>("w", 4, 4, new BlockShape(4, 1));
        float[] mask = [.. Enumerable.Repeat(1f, 16)];
        mask[0] = 0;
        var e = Assert.Throws<ArgumentException>(() => m.RestoreMask(mask));
        Assert.Contains("4x1 block at row 0, column 0", e.Message);
        for (int i = 0; i < 4; i++) mask[i * 4] = 0;
        m.RestoreMask(mask);
        Assert.Equal(4, m.PrunedCount);
    }

    [Theory]
    [InlineData("16x1", 16, 1)]
    [InlineData("1x8", 1, 8)]
    public void Shapes_parse_and_print(string text, int rows, int columns)
    {
        Assert.Equal(new BlockShape(rows, columns), BlockShape.Parse(text));
        Assert.Equal(text, BlockShape.Parse(text).ToString());
        Assert.Throws<FormatException>(() => BlockShape.Parse("16"));
        Assert.Throws<FormatException>(() => BlockShape.Parse("0x1"));
        Assert.Throws<FormatException>(() => BlockShape.Parse("-1x1"));
    }
}
