using Dopant.Inference;
using Dopant.Numerics;

namespace Dopant.Tests.Inference;

/// <summary>
/// The panel-packed dense kernels (fp32, fp16, int8; every instruction family this machine has) against a double
/// product with their own stored weights, and the stored weights against the originals within the rounding bound.
/// </summary>
public class PanelStepMatrixTests
{
    public static TheoryData<int, int> Shapes => new() { { 1, 1 }, { 37, 23 }, { 5, 1000 }, { 70, 33 }, { 8, 16 }, { 9, 17 }, { 16, 15 } };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Products_equal_a_double_reference_and_weights_stay_within_the_rounding_bound(int rows, int columns)
    {
        var random = new Random(rows * 7 + columns);
        float[] w = [.. Enumerable.Range(0, rows * columns).Select(_ => (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-3, 2))))];
        if (rows > 2) w.AsSpan(columns, columns).Clear();  // an all-zero row
        float[] x = [.. Enumerable.Range(0, columns).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        foreach (SgemmKernelKind kernel in Enum.GetValues<SgemmKernelKind>().Where(Blas.IsSupported))
        {
            Check(new PanelStepMatrix<float>(w, rows, columns, kernel), 0);
            Check(new PanelStepMatrix<Half>(w, rows, columns, kernel), Math.Pow(2, -11));
            Check(new PanelStepMatrix<sbyte>(w, rows, columns, kernel), 1.0 / 254);
        }

        void Check<T>(PanelStepMatrix<T> step, double bound) where T : unmanaged
        {
            // x longer than the columns and y longer than the rows, to see that neither is read or written past its size.
            float[] longX = [.. x, float.NaN, 5f];
            float[] y = [.. Enumerable.Range(0, rows).Select(i => (float)i), -7f];
            step.MultiplyAdd(longX, y);
            Assert.Equal(-7f, y[rows]);
            for (int i = 0; i < rows; i++)
            {
                double largest = Enumerable.Range(0, columns).Max(j => Math.Abs((double)w[i * columns + j]));
                double expected = i, magnitude = Math.Abs(i);
                for (int j = 0; j < columns; j++)
                {
                    Assert.True(Math.Abs(step[i, j] - w[i * columns + j]) <= bound * largest * (1 + 1e-6),
                        $"{typeof(T).Name} [{i},{j}]: {step[i, j]} vs {w[i * columns + j]}");
                    expected += (double)step[i, j] * x[j];
                    magnitude += Math.Abs((double)step[i, j] * x[j]);
                }
                Assert.True(Math.Abs(y[i] - expected) <= 1e-6 * (1 + magnitude), $"{typeof(T).Name} row {i}: {y[i]} vs {expected}");
            }
        }
    }

    [Fact]
    public void Every_instruction_family_gives_the_same_fp32_sums_to_rounding()
    {
        var random = new Random(3);
        float[] w = [.. Enumerable.Range(0, 41 * 70).Select(_ => (float)random.NextDouble() - 0.5f)];
        float[] x = [.. Enumerable.Range(0, 70).Select(_ => (float)random.NextDouble())];
        float[][] results = [.. Enum.GetValues<SgemmKernelKind>().Where(Blas.IsSupported).Select(kernel =>
        {
            var y = new float[41];
            new PanelStepMatrix<float>(w, 41, 70, kernel).MultiplyAdd(x, y);
            return y;
        })];
        foreach (float[] y in results.Skip(1))
            for (int i = 0; i < y.Length; i++) Assert.Equal(results[0][i], y[i], 1e-4f);
    }

    [Fact]
    public void Storage_counts_the_values_and_one_scale_a_row_without_the_padding()
    {
        var w = new float[40 * 30];
        Assert.Equal(40L * 30 * 4, new PanelStepMatrix<float>(w, 40, 30).WeightBytes);
        Assert.Equal(40L * 30 + 40 * 4, new PanelStepMatrix<sbyte>(w, 40, 30).WeightBytes);
        Assert.Equal(40L * 30 * 2 + 40 * 4, new PanelStepMatrix<Half>(w, 40, 30).WeightBytes);
        Assert.Throws<ArgumentException>(() => new PanelStepMatrix<sbyte>([float.NaN], 1, 1));
        Assert.Throws<ArgumentException>(() => new PanelStepMatrix<float>(new float[5], 2, 3));
    }
}
