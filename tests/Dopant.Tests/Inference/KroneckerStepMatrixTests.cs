using Dopant.Inference;

namespace Dopant.Tests.Inference;

/// <summary>The streaming Kronecker kernel's two paths (direct small products, two GEMM calls) against a double reference.</summary>
public class KroneckerStepMatrixTests
{
    [Theory]
    [InlineData(1, 1, 1, 1, 1)]
    [InlineData(1, 40, 10, 20, 20)]
    [InlineData(3, 7, 5, 1, 9)]      // M2 = 1 padded to 4: the transposed output
    [InlineData(1, 40, 3, 3, 20)]    // M2 = 3, a taller A: the direct output, padded to 4 and added row by row
    [InlineData(2, 3, 4, 17, 6)]     // M2 > M1: the direct output, padded to 20
    [InlineData(2, 9, 3, 52, 5)]     // M2 = 52: 16-, 8- and 4-lane strips straight into y, 8 + 1 rows
    [InlineData(3, 13, 2, 28, 3)]    // 8 + 4 + 1 rows
    [InlineData(5, 13, 11, 9, 7)]
    [InlineData(2, 33, 3, 5, 2)]
    public void Both_paths_add_the_kronecker_sum_times_x(int rank, int m1, int n1, int m2, int n2)
    {
        var random = new Random(rank * 1000 + m1 * 31 + m2);
        float[] left = Uniform(random, rank * m1 * n1), right = Uniform(random, rank * m2 * n2), x = Uniform(random, n1 * n2);
        float[] start = Uniform(random, m1 * m2);
        var expected = new double[m1 * m2];
        for (int r = 0; r < rank; r++)
            for (int p = 0; p < m1; p++)
                for (int q = 0; q < m2; q++)
                    for (int i = 0; i < n1; i++)
                        for (int j = 0; j < n2; j++)
                            expected[p * m2 + q] += (double)left[(r * m1 + p) * n1 + i] * right[(r * m2 + q) * n2 + j] * x[i * n2 + j];
        for (int k = 0; k < expected.Length; k++) expected[k] += start[k];

        foreach (bool direct in new[] { true, false })
        {
            var step = new KroneckerStepMatrix(left, right, rank, m1, n1, m2, n2, direct);
            Assert.Equal(direct, step.IsDirect);
            var y = (float[])start.Clone();
            step.MultiplyAdd(x, y);
            step.MultiplyAdd(x, y.AsSpan().ToArray());   // scratch from one product must not leak into the next
            var again = (float[])start.Clone();
            step.MultiplyAdd(x, again);
            for (int k = 0; k < y.Length; k++)
            {
                Assert.True(Math.Abs(y[k] - expected[k]) <= 1e-5 * (1 + Math.Abs(expected[k])), $"direct={direct} [{k}]: {y[k]} vs {expected[k]}");
                Assert.Equal(y[k], again[k]);
            }
        }
    }

    [Fact]
    public void Small_factors_take_the_direct_path_and_huge_ones_the_gemm_path()
    {
        Assert.True(new KroneckerStepMatrix(new float[40 * 10], new float[20 * 20], 1, 40, 10, 20, 20).IsDirect);
        const int r = 40, m1 = 60, n1 = 40, m2 = 50, n2 = 40;
        Assert.True(KroneckerStepMatrix.MultiplyAdds(r, m1, n1, m2, n2) > KroneckerStepMatrix.DirectMultiplyAdds);
        Assert.False(new KroneckerStepMatrix(new float[r * m1 * n1], new float[r * m2 * n2], r, m1, n1, m2, n2).IsDirect);
    }

    [Theory]
    [InlineData(1, 1, 4, false)]
    [InlineData(3, 5, 8, true)]
    [InlineData(4, 7, 12, false)]
    [InlineData(9, 13, 28, true)]
    [InlineData(5, 2, 44, false)]
    [InlineData(13, 19, 60, true)]
    [InlineData(8, 0, 16, true)]
    public void Small_product_equals_a_double_reference_with_strided_a_and_row_strides(int m, int k, int n, bool accumulate)
    {
        var random = new Random(m * 100 + k * 10 + n);
        // A stored transposed (k × m) and read through strides (1, m); B and C with rows longer than n.
        int ldb = n + 5, ldc = n + 3;
        float[] a = Uniform(random, Math.Max(1, k * m)), b = Uniform(random, Math.Max(1, k * ldb)), c = Uniform(random, m * ldc);
        float[] start = (float[])c.Clone();
        SmallProduct.Multiply(a, 1, m, b, ldb, c, ldc, m, k, n, accumulate);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc; j++)
            {
                if (j >= n)
                {
                    Assert.Equal(start[i * ldc + j], c[i * ldc + j]);
                    continue;
                }
                double sum = accumulate ? start[i * ldc + j] : 0;
                for (int p = 0; p < k; p++) sum += (double)a[p * m + i] * b[p * ldb + j];
                Assert.True(Math.Abs(c[i * ldc + j] - sum) <= 1e-5 * (1 + Math.Abs(sum)), $"[{i},{j}]: {c[i * ldc + j]} vs {sum}");
            }
    }

    [Fact]
    public void Small_product_rejects_a_width_that_is_not_whole_vectors_and_short_operands()
    {
        Assert.Throws<ArgumentException>(() => SmallProduct.Multiply(new float[4], 2, 1, new float[14], 7, new float[14], 7, 2, 2, 7, false));
        Assert.Throws<ArgumentException>(() => SmallProduct.Multiply(new float[4], 2, 1, new float[16], 8, new float[12], 8, 2, 2, 8, false));
    }

    private static float[] Uniform(Random random, int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1))];
}
