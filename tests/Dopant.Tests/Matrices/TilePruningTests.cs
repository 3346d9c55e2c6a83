using Dopant.Inference;
using Dopant.Matrices;

namespace Dopant.Tests.Matrices;

/// <summary>
/// Single entries balanced in tiles (<c>1x1@RxC</c>): every row of a slice of R rows keeps the same number of entries
/// in each window of C columns.
/// </summary>
public class TilePruningTests
{
    [Fact]
    public void Tiles_parse_print_and_reject_other_forms()
    {
        Assert.Equal(new BlockShape(1, 1, TileRows: 16, TileColumns: 64), BlockShape.Parse("1x1@16x64"));
        Assert.Equal("1x1@16x64", BlockShape.Parse("1x1@16x64").ToString());
        Assert.Equal("1x1@3x256", BlockShape.Parse("1x1@3x256").ToString());
        Assert.False(BlockShape.Parse("1x1@16x64").IsUnstructured);
        Assert.True(BlockShape.Parse("1x1@16x64").IsElement);
        foreach (string bad in (string[])["4x4@16x64", "1x1@16", "1x1@0x64", "1x1@16x257", "1x1@16x64/4", "1x1/4@16x64",
                     "1x1@16x64+10%", "1x1@", "@16x64", "1x1@16x64@2", "1x1@16x-4"])
            Assert.Contains("1x1@", Assert.Throws<FormatException>(() => BlockShape.Parse(bad)).Message);
        foreach (BlockShape bad in (BlockShape[])[new(4, 4, TileRows: 16, TileColumns: 64), new(1, 1, TileRows: 16),
                     new(1, 1, 4, TileRows: 16, TileColumns: 64), new(1, 1, TileRows: 300, TileColumns: 64)])
            Assert.Contains("Balanced tiles need", Assert.Throws<ArgumentException>(() => new PrunedMatrix<float>("w", 4, 4, bad)).Message);
    }

    [Theory]
    [InlineData(37, 23, 4, 5, 0.7)]
    [InlineData(48, 130, 16, 64, 0.964)]
    [InlineData(20, 9, 3, 9, 0.5)]
    [InlineData(5, 7, 16, 64, 0.6)]
    public void A_first_step_keeps_the_worthiest_counts_of_slices_cut_by_row_strength(int rows, int columns, int sliceRows, int width, double sparsity)
    {
        var m = new PrunedMatrix<double>("w", rows, columns, new BlockShape(1, 1, TileRows: sliceRows, TileColumns: width));
        var random = new Random(rows * columns + sliceRows);
        for (int k = 0; k < m.Weight.Length; k++) m.Weight.Value[k] = (random.NextDouble() * 2 - 1) * (1 + k / columns % 3);
        double[] w = [.. m.Weight.Value];
        m.PruneToSparsity(sparsity);

        // Every row holds every entry, so all rows form one group, ordered by their sum of squares.
        double Square(int i, int j) => w[i * columns + j] * w[i * columns + j];
        int[] order = [.. Enumerable.Range(0, rows).OrderByDescending(i => Enumerable.Range(0, columns).Sum(j => Square(i, j))).ThenBy(i => i)];
        int windows = (columns + width - 1) / width, slices = (rows + sliceRows - 1) / sliceRows;
        int[] Slice(int s) => order[(s * sliceRows)..Math.Min(rows, (s + 1) * sliceRows)];
        int[] Ranked(int i, int window) => [.. Enumerable.Range(window * width, Math.Min(width, columns - window * width))
            .OrderByDescending(j => Square(i, j)).ThenBy(j => j)];
        var raises = new List<(double Worth, int SliceWindow, int Number)>();
        for (int s = 0; s < slices; s++)
            for (int window = 0; window < windows; window++)
                for (int n = 0; n < Math.Min(width, columns - window * width); n++)
                    raises.Add((Slice(s).Average(i => Square(i, Ranked(i, window)[n])), s * windows + window, n));
        long keep = m.Weight.Length - (long)Math.Round(sparsity * m.Weight.Length, MidpointRounding.AwayFromZero), kept = 0;
        var counts = new int[slices * windows];
        foreach ((_, int sliceWindow, _) in raises.OrderByDescending(r => r.Worth).ThenBy(r => r.SliceWindow).ThenBy(r => r.Number))
        {
            int size = Slice(sliceWindow / windows).Length;
            if (kept + size > keep) break;
            kept += size;
            counts[sliceWindow]++;
        }

        var expected = new double[w.Length];
        for (int s = 0; s < slices; s++)
            foreach (int i in Slice(s))
                for (int window = 0; window < windows; window++)
                    foreach (int j in Ranked(i, window).Take(counts[s * windows + window])) expected[i * columns + j] = 1;
        Assert.Equal(expected, m.Mask.ToArray());
        Assert.Equal(kept, m.ParameterCount);
        Assert.True(keep - kept < sliceRows);
        Assert.All(Enumerable.Range(0, w.Length), k => Assert.Equal(expected[k] * w[k], m.Weight.Value[k]));
    }

    [Fact]
    public void The_counts_hold_the_most_energy_any_balanced_counts_can_for_those_slices()
    {
        // 4 × 6 in tiles of 2 × 3: two slices (rows by strength), two windows, counts 0 to 3 each.
        var m = new PrunedMatrix<double>("w", 4, 6, new BlockShape(1, 1, TileRows: 2, TileColumns: 3));
        var random = new Random(5);
        for (int k = 0; k < 24; k++) m.Weight.Value[k] = random.NextDouble() * 2 - 1;
        double[] w = [.. m.Weight.Value];
        m.PruneToSparsity(14 / 24.0);
        double held = Enumerable.Range(0, 24).Sum(k => m.Mask[k] * w[k] * w[k]);

        int[] order = [.. Enumerable.Range(0, 4).OrderByDescending(i => Enumerable.Range(0, 6).Sum(j => w[i * 6 + j] * w[i * 6 + j]))];
        double Best(int row, int window, int n) => Enumerable.Range(window * 3, 3).Select(j => w[row * 6 + j] * w[row * 6 + j]).OrderDescending().Take(n).Sum();
        double best = 0;
        for (int code = 0; code < 256; code++)
        {
            int[] n = [code & 3, code >> 2 & 3, code >> 4 & 3, code >> 6 & 3];
            if (2 * n.Sum() > 10) continue;
            double energy = 0;
            for (int s = 0; s < 2; s++)
                for (int window = 0; window < 2; window++)
                    energy += Best(order[2 * s], window, n[s * 2 + window]) + Best(order[2 * s + 1], window, n[s * 2 + window]);
            best = Math.Max(best, energy);
        }
        Assert.Equal(10, m.ParameterCount);
        Assert.Equal(best, held, 12);
    }

    [Theory]
    [InlineData(45, 70, 16, 64)]
    [InlineData(37, 23, 4, 5)]
    [InlineData(64, 650, 16, 64)]
    public void Annealing_keeps_every_slice_balanced_prunes_only_kept_entries_and_reaches_the_target(int rows, int columns, int sliceRows, int width)
    {
        var m = new PrunedMatrix<float>("w", rows, columns, new BlockShape(1, 1, TileRows: sliceRows, TileColumns: width));
        var random = new Random(rows + columns);
        for (int k = 0; k < m.Weight.Length; k++) m.Weight.Value[k] = (float)(random.NextDouble() * 2 - 1);
        float[] before = [.. m.Mask];
        foreach (double sparsity in new[] { 0.2, 0.5, 0.8, 0.9, 0.964 })
        {
            for (int k = 0; k < m.Weight.Length; k++)
                if (m.Mask[k] == 1) m.Weight.Value[k] += (float)(random.NextDouble() - 0.5) * 0.3f;
            m.PruneToSparsity(sparsity);
            long target = (long)Math.Round(sparsity * m.Weight.Length, MidpointRounding.AwayFromZero);
            Assert.InRange(m.PrunedCount, target, target + sliceRows - 1);
            Assert.All(Enumerable.Range(0, m.Weight.Length), k => Assert.True(m.Mask[k] <= before[k]));
            AssertBalanced(m);
            before = [.. m.Mask];
        }
        if (rows % sliceRows == 0 && width == WindowedEllStepMatrix<float>.MaxWindow)
        {
            // The runtime groups the rows again from the mask alone and needs no padding.
            var kernel = new WindowedEllStepMatrix<float>(m.ToCsr(), WindowedEllStepMatrix<float>.WindowFor(m.Block));
            Assert.Equal(kernel.NonZeroCount, kernel.StepCount * WindowedEllStepMatrix<float>.SliceRows);
        }
    }

    [Fact]
    public void An_unbalanced_mask_is_balanced_by_the_next_step_and_a_restored_matrix_prunes_the_same()
    {
        var block = new BlockShape(1, 1, TileRows: 4, TileColumns: 8);
        var m = new PrunedMatrix<float>("w", 30, 20, block);
        var random = new Random(3);
        for (int k = 0; k < m.Weight.Length; k++) m.Weight.Value[k] = (float)(random.NextDouble() * 2 - 1);
        float[] mask = [.. Enumerable.Range(0, 600).Select(_ => random.NextDouble() < 0.7 ? 1f : 0f)];
        m.RestoreMask(mask);
        m.ApplyMask();
        long target = (long)Math.Round(0.5 * 600);
        m.PruneToSparsity(0.5);
        Assert.True(m.PrunedCount >= target);
        AssertBalanced(m);

        var restored = new PrunedMatrix<float>("w", 30, 20, block);
        m.Weight.Value.CopyTo(restored.Weight.Value, 0);
        restored.RestoreMask(m.Mask);
        m.PruneToSparsity(0.9);
        restored.PruneToSparsity(0.9);
        Assert.Equal(m.Mask.ToArray(), restored.Mask.ToArray());
    }

    [Theory]
    [InlineData(16, 64, 64)]
    [InlineData(16, 48, 48)]
    [InlineData(16, 20, 60)]
    [InlineData(16, 100, 64)]
    public void The_runtime_window_is_a_whole_number_of_tiles_when_one_fits(int sliceRows, int width, int window) =>
        Assert.Equal(window, WindowedEllStepMatrix<float>.WindowFor(new BlockShape(1, 1, TileRows: sliceRows, TileColumns: width)));

    // The rows can be cut into slices, in the order of TileRowOrder, whose rows hold equal counts in every window.
    private static void AssertBalanced(PrunedMatrix<float> m)
    {
        int width = m.Block.TileColumns, windows = (m.Columns + width - 1) / width;
        var counts = new int[m.Rows * windows];
        for (int i = 0; i < m.Rows; i++)
            for (int j = 0; j < m.Columns; j++) counts[i * windows + j / width] += (int)m.Mask[i * m.Columns + j];
        int[] order = TileRowOrder.Order(counts, m.Rows, windows, m.Block.TileRows);
        for (int s = 0; s < m.Rows; s += m.Block.TileRows)
            for (int r = s + 1; r < Math.Min(s + m.Block.TileRows, m.Rows); r++)
                Assert.Equal(counts.AsSpan(order[s] * windows, windows).ToArray(), counts.AsSpan(order[r] * windows, windows).ToArray());
    }
}
