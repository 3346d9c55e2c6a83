using Dopant.Inference;

namespace Dopant.Tests.Inference;

/// <summary>The fp16 and int8 streaming kernels against a double product with their own dequantized weights, and those weights against the originals within the stated bounds.</summary>
public class RowScaledStepMatrixTests
{
    [Theory]
    [InlineData(37, 23)]
    [InlineData(1, 1)]
    [InlineData(5, 1000)]
    [InlineData(70, 33)]
    public void Products_equal_a_double_reference_and_weights_stay_within_the_rounding_bound(int rows, int columns)
    {
        var random = new Random(rows * 7 + columns);
        float[] w = [.. Enumerable.Range(0, rows * columns).Select(_ => (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-3, 2))))];
        if (rows > 2) w.AsSpan(columns, columns).Clear();  // an all-zero row
        float[] x = [.. Enumerable.Range(0, columns).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        foreach ((IStepMatrix step, double bound) in new (IStepMatrix, double)[]
                 { (new RowScaledStepMatrix<sbyte>(w, rows, columns), 1.0 / 254), (new RowScaledStepMatrix<Half>(w, rows, columns), Math.Pow(2, -11)) })
        {
            Func<int, int, float> weight = step is RowScaledStepMatrix<sbyte> q8 ? (i, j) => q8[i, j] : (i, j) => ((RowScaledStepMatrix<Half>)step)[i, j];
            float[] y = [.. Enumerable.Range(0, rows).Select(i => (float)i)];
            step.MultiplyAdd(x, y);
            for (int i = 0; i < rows; i++)
            {
                double largest = Enumerable.Range(0, columns).Max(j => Math.Abs((double)w[i * columns + j]));
                double expected = i, magnitude = Math.Abs(i);
                for (int j = 0; j < columns; j++)
                {
                    Assert.True(Math.Abs(weight(i, j) - w[i * columns + j]) <= bound * largest * (1 + 1e-6),
                        $"{step.GetType().Name} [{i},{j}]: {weight(i, j)} vs {w[i * columns + j]}");
                    expected += (double)weight(i, j) * x[j];
                    magnitude += Math.Abs((double)weight(i, j) * x[j]);
                }
                Assert.True(Math.Abs(y[i] - expected) <= 1e-6 * (1 + magnitude), $"{step.GetType().Name} row {i}: {y[i]} vs {expected}");
            }
        }
    }

    [Fact]
    public void Storage_is_a_quarter_or_half_of_fp32_plus_one_scale_a_row()
    {
        var w = new float[40 * 30];
        Assert.Equal(40L * 30 + 40 * 4, new RowScaledStepMatrix<sbyte>(w, 40, 30).WeightBytes);
        Assert.Equal(40L * 30 * 2 + 40 * 4, new RowScaledStepMatrix<Half>(w, 40, 30).WeightBytes);
        Assert.Throws<ArgumentException>(() => new RowScaledStepMatrix<sbyte>([float.NaN], 1, 1));
    }
}
