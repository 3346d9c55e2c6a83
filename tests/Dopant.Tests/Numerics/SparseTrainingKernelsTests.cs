using Dopant.Numerics;

namespace Dopant.Tests.Numerics;

public class SparseTrainingKernelsTests
{
    [Theory]
    [InlineData(1, 1, 1, 1.0)]
    [InlineData(37, 23, 1, 0.1)]
    [InlineData(37, 23, 19, 0.05)]
    [InlineData(5, 41, 33, 0.3)]
    [InlineData(64, 16, 70, 0.02)]
    [InlineData(300, 130, 250, 0.03)]
    [InlineData(90, 70, 128, 0.1)]
    [InlineData(130, 41, 199, 0.08)]
    public void The_three_products_match_double_references_on_odd_sizes_and_batch_tails(int rows, int columns, int count, double density)
    {
        var random = new Random(rows * 31 + count);
        float[] mask = [.. Enumerable.Range(0, rows * columns).Select(_ => random.NextDouble() < density ? 1f : 0f)];
        float[] dense = [.. mask.Select(m => m * (float)(random.NextDouble() - 0.5))];
        SparsePattern pattern = SparsePattern.FromMask<float>(mask, rows, columns);
        Assert.Equal(mask.Count(m => m != 0), pattern.NonZeros);
        float[] xT = Random(random, columns * count), dyT = Random(random, rows * count);

        var values = new float[pattern.NonZeros];
        SparsePattern.Gather(dense, pattern.Positions, values);
        var yT = new float[rows * count];
        Array.Fill(yT, float.NaN);
        SparseTrainingKernels.Forward(pattern, values, xT, yT, count);
        for (int i = 0; i < rows; i++)
            for (int b = 0; b < count; b++)
            {
                double sum = 0;
                for (int j = 0; j < columns; j++) sum += (double)dense[i * columns + j] * xT[j * count + b];
                Assert.Equal(sum, yT[i * count + b], 1e-5);
            }

        var byColumn = new float[pattern.NonZeros];
        SparsePattern.Gather(dense, pattern.ColumnPositions, byColumn);
        var dxT = new float[columns * count];
        Array.Fill(dxT, float.NaN);
        SparseTrainingKernels.BackwardInput(pattern, byColumn, dyT, dxT, count);
        for (int j = 0; j < columns; j++)
            for (int b = 0; b < count; b++)
            {
                double sum = 0;
                for (int i = 0; i < rows; i++) sum += (double)dense[i * columns + j] * dyT[i * count + b];
                Assert.Equal(sum, dxT[j * count + b], 1e-5);
            }

        float[] gradients = [.. Enumerable.Range(0, pattern.NonZeros).Select(k => 0.5f * k)];
        SparseTrainingKernels.AccumulateGradients(pattern, xT, dyT, count, gradients);
        for (int k = 0; k < pattern.NonZeros; k++)
        {
            int i = pattern.Positions[k] / columns, j = pattern.Positions[k] % columns;
            Assert.Equal(j, pattern.ColumnIndices[k]);
            double sum = 0.5 * k;
            for (int b = 0; b < count; b++) sum += (double)dyT[i * count + b] * xT[j * count + b];
            Assert.Equal(sum, gradients[k], Math.Max(1e-5, Math.Abs(sum) * 1e-5));
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 70)]
    [InlineData(33, 65)]
    [InlineData(8, 8)]
    [InlineData(16, 24)]
    [InlineData(301, 250)]
    [InlineData(700, 123)]
    public void Transpose_writes_or_adds_the_transposed_matrix(int n, int m)
    {
        var random = new Random(n + m);
        float[] source = Random(random, n * m), target = Random(random, n * m), before = (float[])target.Clone();
        SparseTrainingKernels.Transpose(source, n, m, target, accumulate: true);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) Assert.Equal(before[j * n + i] + source[i * m + j], target[j * n + i]);
        SparseTrainingKernels.Transpose(source, n, m, target);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) Assert.Equal(source[i * m + j], target[j * n + i]);
    }

    private static float[] Random(Random random, int length) => [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5))];
}
