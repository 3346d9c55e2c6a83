using Dopant.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Dopant.Tests.Numerics;

/// <summary>The Gram-matrix truncated SVD against MathNet's full SVD (the reference).</summary>
public class TruncatedSvdTests
{
    [Theory]
    [InlineData(37, 11, 4)]
    [InlineData(11, 37, 4)]
    [InlineData(23, 23, 23)]
    [InlineData(1, 9, 1)]
    public void Top_triplets_match_a_full_svd(int rows, int columns, int count)
    {
        var random = new Random(rows * 100 + columns);
        double[] data = [.. Enumerable.Range(0, rows * columns).Select(_ => random.NextDouble() * 2 - 1)];
        (double[] sigma, double[][] u, double[][] v) = TruncatedSvd.Top(data, rows, columns, count);

        var reference = Matrix<double>.Build.Dense(rows, columns, (i, j) => data[i * columns + j]).Svd(computeVectors: true);
        for (int r = 0; r < count; r++)
        {
            Assert.Equal(reference.S[r], sigma[r], 1e-9);
            // Singular vectors are unique up to sign when the singular values are distinct (they are, for random data).
            double sign = Math.Sign(Enumerable.Range(0, columns).Sum(j => v[r][j] * reference.VT[r, j]));
            for (int j = 0; j < columns; j++) Assert.Equal(reference.VT[r, j], sign * v[r][j], 1e-8);
            for (int i = 0; i < rows; i++) Assert.Equal(reference.U[i, r], sign * u[r][i], 1e-8);
        }
    }

    [Fact]
    public void A_rank_deficient_matrix_gives_zero_singular_values_and_an_exact_reconstruction()
    {
        // Rank 2: the third triplet has σ = 0 and the first two reproduce the matrix.
        double[] a = [1, 2, 3], b = [0, 1, -1], c = [2, 0, 1, 5], d = [1, 1, 0, -2];
        double[] data = new double[3 * 4];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) data[i * 4 + j] = a[i] * c[j] + b[i] * d[j];
        (double[] sigma, double[][] u, double[][] v) = TruncatedSvd.Top(data, 3, 4, 3);
        Assert.True(sigma[2] < 1e-7, $"σ_3 = {sigma[2]}");
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(data[i * 4 + j], sigma[0] * u[0][i] * v[0][j] + sigma[1] * u[1][i] * v[1][j], 1e-9);
    }
}
