using Dopant.Inference;
using Dopant.Matrices;

namespace Dopant.Tests.Inference;

/// <summary>8-bit column blocks against a double product with their own dequantized values, and those against the originals.</summary>
public class Int8ColumnBlockStepMatrixTests
{
    [Theory]
    [InlineData(37, 23, 16, 0.8)]
    [InlineData(8, 5, 8, 0.0)]
    [InlineData(70, 9, 32, 0.6)]
    [InlineData(203, 97, 16, 0.95)]
    public void Products_match_a_double_reference_and_values_stay_within_half_a_step(int rows, int columns, int blockRows, double sparsity)
    {
        if (!Int8ColumnBlockStepMatrix.IsSupported(new BlockShape(blockRows, 1))) return;  // no AVX2: the fp32 kernel runs instead
        var random = new Random(rows * 3 + columns);
        var pruned = new PrunedMatrix<float>("w", rows, columns, new BlockShape(blockRows, 1));
        for (int k = 0; k < pruned.Weight.Length; k++) pruned.Weight.Value[k] = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-2, 1)));
        pruned.PruneToSparsity(sparsity);
        var step = new Int8ColumnBlockStepMatrix(pruned);
        float[] x = [.. Enumerable.Range(0, columns).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        float[] y = [.. Enumerable.Range(0, rows).Select(i => (float)i)];
        step.MultiplyAdd(x, y);
        for (int i = 0; i < rows; i++)
        {
            double largest = Enumerable.Range(0, columns).Max(j => Math.Abs((double)pruned.Weight.Value[i * columns + j] * pruned.Mask[i * columns + j]));
            double expected = i, magnitude = Math.Abs(i);
            for (int j = 0; j < columns; j++)
            {
                double original = pruned.Weight.Value[i * columns + j] * pruned.Mask[i * columns + j];
                Assert.True(Math.Abs(step[i, j] - original) <= largest / 254 * (1 + 1e-6), $"[{i},{j}]: {step[i, j]} vs {original}");
                expected += (double)step[i, j] * x[j];
                magnitude += Math.Abs((double)step[i, j] * x[j]);
            }
            Assert.True(Math.Abs(y[i] - expected) <= 1e-6 * (1 + magnitude), $"row {i}: {y[i]} vs {expected}");
        }
        // A quarter of the value bytes of the fp32 block kernel, the same indices, plus a scale a row.
        var fp32 = new BlockSparseStepMatrix(pruned);
        int groups = (rows + blockRows - 1) / blockRows, blocks = (int)pruned.KeptBlocks();
        Assert.Equal(fp32.WeightBytes - 3L * blocks * blockRows + groups * blockRows * 4L, step.WeightBytes);
    }

    [Fact]
    public void Only_column_blocks_of_8_16_or_32_rows_are_taken()
    {
        Assert.False(Int8ColumnBlockStepMatrix.IsSupported(new BlockShape(4, 4)));
        Assert.False(Int8ColumnBlockStepMatrix.IsSupported(new BlockShape(12, 1)));
        Assert.Throws<ArgumentException>(() => new Int8ColumnBlockStepMatrix(new PrunedMatrix<float>("w", 8, 8, new BlockShape(4, 4))));
    }
}
