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
    [InlineData("16x1", 16, 1, 0)]
    [InlineData("1x8", 1, 8, 0)]
    [InlineData("16x1/32", 16, 1, 32)]
    [InlineData("1x1/4", 1, 1, 4)]
    [InlineData("4x4+10%", 4, 4, 0, 10)]
    [InlineData("16x1+99%", 16, 1, 0, 99)]
    public void Shapes_parse_and_print(string text, int rows, int columns, int group, int loosePercent = 0)
    {
        Assert.Equal(new BlockShape(rows, columns, group, loosePercent), BlockShape.Parse(text));
        Assert.Equal(text, BlockShape.Parse(text).ToString());
        Assert.Equal(rows == 1 && columns == 1 && group == 0, BlockShape.Parse(text).IsUnstructured);
        foreach (string bad in (string[])["16", "0x1", "-1x1", "16x1/1", "16x1/257", "16x1/", "16x1/4/2", "16x1/+4",
                     "1x1+10%", "4x4+0%", "4x4+100%", "4x4+10", "4x4/8+10%", "+10%", "4x4+%", "4x4+-5%", "4x4+10%+5%"])
            Assert.Throws<FormatException>(() => BlockShape.Parse(bad));
    }

    [Theory]
    [InlineData(13, 11, 4, 4, 10)]
    [InlineData(37, 23, 16, 1, 25)]
    [InlineData(20, 30, 4, 4, 50)]
    [InlineData(9, 17, 1, 8, 5)]
    public void Blocks_with_loose_entries_keep_the_strongest_whole_blocks_and_then_the_largest_loose_entries(
        int rows, int columns, int blockRows, int blockColumns, int loosePercent)
    {
        var shape = new BlockShape(blockRows, blockColumns, LoosePercent: loosePercent);
        var m = new PrunedMatrix<float>("w", rows, columns, shape);
        var random = new Random(rows * columns + loosePercent);
        for (int k = 0; k < m.Weight.Length; k++) m.Weight.Value[k] = (float)(random.NextDouble() * 2 - 1);
        double[] values = [.. m.Weight.Value.Select(v => (double)v)];
        bool[] kept = [.. Enumerable.Repeat(true, rows * columns)];
        int gridColumns = (columns + blockColumns - 1) / blockColumns, gridRows = (rows + blockRows - 1) / blockRows;
        int BlockOf(int k) => k / columns / blockRows * gridColumns + k % columns / blockColumns;

        foreach (double sparsity in new[] { 0.3, 0.5, 0.8, 0.8, 0.95 })
        {
            // The reference: whole blocks by root-mean-square until they hold at most (100 − P)% of the entries kept,
            // then the largest of the other kept entries.
            int keep = rows * columns - (int)Math.Round(sparsity * rows * columns, MidpointRounding.AwayFromZero);
            var whole = Enumerable.Range(0, gridRows * gridColumns)
                .Select(b => Enumerable.Range(0, rows * columns).Where(k => BlockOf(k) == b).ToArray())
                .Select((entries, b) => (Block: b, Entries: entries))
                .Where(b => b.Entries.All(k => kept[k]))
                .OrderByDescending(b => Math.Sqrt(b.Entries.Average(k => values[k] * values[k]))).ThenByDescending(b => b.Block).ToList();
            long budget = (long)Math.Round((100 - loosePercent) / 100.0 * keep, MidpointRounding.AwayFromZero);
            while (whole.Sum(b => b.Entries.Length) > budget) whole.RemoveAt(whole.Count - 1);
            var inBlocks = new HashSet<int>(whole.SelectMany(b => b.Entries));
            int[] loose = [.. Enumerable.Range(0, rows * columns).Where(k => kept[k] && !inBlocks.Contains(k))
                .OrderByDescending(k => Math.Abs(values[k])).ThenByDescending(k => k).Take(keep - inBlocks.Count)];
            if (kept.Count(v => v) > keep) kept = [.. Enumerable.Range(0, rows * columns).Select(k => inBlocks.Contains(k) || loose.Contains(k))];

            m.PruneToSparsity(sparsity);
            Assert.Equal(keep, m.ParameterCount);
            for (int k = 0; k < rows * columns; k++)
            {
                Assert.Equal(kept[k] ? 1f : 0f, m.Mask[k]);
                Assert.Equal(kept[k] ? values[k] : 0, m.Weight.Value[k]);
            }
        }

        (PrunedMatrix<float> blocks, PrunedMatrix<float> looseEntries) = m.SplitLooseEntries();
        Assert.Equal(m.ParameterCount, blocks.ParameterCount + looseEntries.ParameterCount);
        Assert.Equal(m.LooseCount(), looseEntries.ParameterCount);
        Assert.Equal(m.KeptBlocks(), blocks.KeptBlocks());
        Assert.Equal(shape.Blocks, blocks.Block);
        float[] sum = [.. blocks.ToDense().Zip(looseEntries.ToDense(), (a, b) => a + b)];
        Assert.Equal(m.ToDense(), sum);
        // Whole blocks as block CSR (values, an index per block, block-row pointers), loose entries as CSR.
        Assert.Equal(m.ParameterCount * 4 + (m.KeptBlocks() + gridRows + 1) * 4 + (m.LooseCount() + rows + 1) * 4, m.StorageBytes);
    }

    [Fact]
    public void Blocks_with_loose_entries_restore_any_mask_from_a_checkpoint()
    {
        var m = new PrunedMatrix<float>("w", 4, 4, BlockShape.Parse("4x1+20%"));
        float[] mask = [.. Enumerable.Repeat(1f, 16)];
        mask[0] = 0;
        m.RestoreMask(mask);
        Assert.Equal(1, m.PrunedCount);
        Assert.Equal(3, m.KeptBlocks());
        Assert.Equal(3, m.LooseCount());
        foreach (BlockShape bad in (BlockShape[])[new(1, 1, LoosePercent: 10), new(4, 1, 8, 10), new(4, 1, LoosePercent: 100)])
            Assert.Contains("Loose entries need", Assert.Throws<ArgumentException>(() => new PrunedMatrix<float>("w", 4, 4, bad)).Message);
    }

    [Theory]
    [InlineData(7, 23, 4, 0.5)]
    [InlineData(5, 17, 8, 0.75)]
    [InlineData(3, 30, 28, 0.964)]
    public void N_of_M_keeps_the_largest_entries_of_every_group_of_a_row(int rows, int columns, int group, double sparsity)
    {
        var m = new PrunedMatrix<float>("w", rows, columns, new BlockShape(1, 1, group));
        var random = new Random(rows * columns + group);
        for (int k = 0; k < m.Weight.Length; k++) m.Weight.Value[k] = (float)(random.NextDouble() * 2 - 1);
        double[] original = [.. m.Weight.Value.Select(v => (double)v)];
        m.PruneToSparsity(sparsity);

        int keep = group - (int)Math.Round(sparsity * group, MidpointRounding.AwayFromZero);
        long expectedKept = 0;
        for (int i = 0; i < rows; i++)
            for (int start = 0; start < columns; start += group)
            {
                int length = Math.Min(group, columns - start);
                int[] strongest = [.. Enumerable.Range(start, length).OrderByDescending(j => Math.Abs(original[i * columns + j])).Take(Math.Min(keep, length))];
                for (int j = start; j < start + length; j++)
                {
                    bool kept = strongest.Contains(j);
                    Assert.Equal(kept ? 1f : 0f, m.Mask[i * columns + j]);
                    Assert.Equal(kept ? original[i * columns + j] : 0, m.Weight.Value[i * columns + j]);
                }
                expectedKept += strongest.Length;
            }
        Assert.Equal(expectedKept, m.ParameterCount);
    }

    [Fact]
    public void N_of_M_over_column_blocks_anneals_group_by_group_and_pruned_blocks_stay_pruned()
    {
        // 20 × 10 in 16×1 blocks: block rows of 16 and 4 (cut short), 10 block columns in groups of 4, 4 and 2.
        var m = new PrunedMatrix<double>("w", 20, 10, new BlockShape(16, 1, 4));
        var random = new Random(11);
        for (int k = 0; k < m.Weight.Length; k++) m.Weight.Value[k] = random.NextDouble() * 2 - 1;
        double[] original = [.. m.Weight.Value];
        double Rms(int blockRow, int column)
        {
            int r0 = blockRow * 16, r1 = Math.Min(r0 + 16, 20);
            return Math.Sqrt(Enumerable.Range(r0, r1 - r0).Sum(i => original[i * 10 + column] * original[i * 10 + column]) / (r1 - r0));
        }

        bool[] keptBefore = [.. Enumerable.Repeat(true, 200)];
        foreach ((double sparsity, int keep) in new[] { (0.25, 3), (0.5, 2), (0.75, 1), (0.75, 1) })
        {
            m.PruneToSparsity(sparsity);
            for (int blockRow = 0; blockRow < 2; blockRow++)
                foreach ((int start, int length) in new[] { (0, 4), (4, 4), (8, 2) })
                {
                    // Pruned blocks stay pruned, so the kept ones are the strongest of those still kept before this step.
                    int[] candidates = [.. Enumerable.Range(start, length).Where(j => keptBefore[blockRow * 16 * 10 + j])];
                    int[] strongest = [.. candidates.OrderByDescending(j => Rms(blockRow, j)).Take(Math.Min(keep, length))];
                    for (int j = start; j < start + length; j++)
                        for (int i = blockRow * 16; i < Math.Min(blockRow * 16 + 16, 20); i++)
                            Assert.Equal(strongest.Contains(j) ? 1.0 : 0.0, m.Mask[i * 10 + j]);
                }
            Assert.All(Enumerable.Range(0, 200), k => Assert.True(m.Mask[k] == 1 || m.Weight.Value[k] == 0));
            keptBefore = [.. m.Mask.ToArray().Select(v => v == 1)];
        }
        // At 3/4 sparsity: 1 block in each of the 3 groups of both block rows, 16 + 4 entries per column.
        Assert.Equal(3 * (16 + 4), m.ParameterCount);
        Assert.Equal(6, m.KeptBlocks());
    }
}
