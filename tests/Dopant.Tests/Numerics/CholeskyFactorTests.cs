using Dopant.Numerics;

namespace Dopant.Tests.Numerics;

public class CholeskyFactorTests
{
    [Fact]
    public void Factor_reproduces_the_matrix_and_solves_systems()
    {
        // A = BᵀB + I for a fixed B: symmetric positive definite.
        double[,] b = { { 2, -1, 0, 3 }, { 1, 4, -2, 0 }, { 0, 1, 1, -1 }, { 5, 0, 2, 1 } };
        const int n = 4;
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = i == j ? 1 : 0;
                for (int k = 0; k < n; k++) sum += b[k, i] * b[k, j];
                a[i * n + j] = sum;
            }
        CholeskyFactor factor = CholeskyFactor.TryFactor(a, n)!;
        Assert.NotNull(factor);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int k = 0; k <= Math.Min(i, j); k++) sum += factor[i, k] * factor[j, k];
                Assert.Equal(a[i * n + j], sum, 1e-10);
            }

        double[] expected = [1, -2, 0.5, 3];
        var rhs = new double[n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) rhs[i] += a[i * n + j] * expected[j];
        factor.Solve(rhs);
        for (int i = 0; i < n; i++) Assert.Equal(expected[i], rhs[i], 1e-10);

        // det A = Π L_ii².
        double determinant = 1;
        for (int i = 0; i < n; i++) determinant *= factor[i, i] * factor[i, i];
        Assert.Equal(Math.Log(determinant), factor.LogDeterminant, 1e-12);
    }

    [Fact]
    public void A_matrix_that_is_not_positive_definite_is_refused()
    {
        Assert.Null(CholeskyFactor.TryFactor([1, 2, 2, 1], 2));
        Assert.Null(CholeskyFactor.TryFactor([0, 0, 0, 1], 2));
    }
}
