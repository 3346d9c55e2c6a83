using Dopant.Compression;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Training;

namespace Dopant.Tests.Training;

/// <summary>Scaled gradients of low-rank factors: against a double-precision reference, and the step they give W.</summary>
public class LowRankGradientScalingTests
{
    private static double[] Random(Xoshiro256 random, int count, double scale) =>
        [.. Enumerable.Range(0, count).Select(_ => scale * (2 * random.NextDouble() - 1))];

    // (A + λI)⁻¹·B for a symmetric r × r A, by Gauss-Jordan in double; B is r × n.
    private static double[,] Solve(double[,] a, double[,] b)
    {
        int r = a.GetLength(0), n = b.GetLength(1);
        var m = new double[r, r + n];
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++) m[i, j] = a[i, j];
            for (int j = 0; j < n; j++) m[i, r + j] = b[i, j];
        }
        for (int p = 0; p < r; p++)
        {
            double pivot = m[p, p];
            for (int j = 0; j < r + n; j++) m[p, j] /= pivot;
            for (int i = 0; i < r; i++)
            {
                if (i == p) continue;
                double f = m[i, p];
                for (int j = 0; j < r + n; j++) m[i, j] -= f * m[p, j];
            }
        }
        var x = new double[r, n];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < n; j++) x[i, j] = m[i, r + j];
        return x;
    }

    private static double[,] Gram(double[] f, int rank, int length, bool wide)
    {
        var g = new double[rank, rank];
        double trace = 0;
        for (int i = 0; i < rank; i++)
            for (int j = 0; j < rank; j++)
            {
                for (int k = 0; k < length; k++) g[i, j] += (wide ? f[i * length + k] : f[k * rank + i]) * (wide ? f[j * length + k] : f[k * rank + j]);
                if (i == j) trace += g[i, i];
            }
        for (int i = 0; i < rank; i++) g[i, i] += 1e-3 * trace / rank + 1e-12;
        return g;
    }

    [Theory]
    [InlineData(37, 23, 5)]
    [InlineData(9, 131, 3)]
    [InlineData(70, 17, 1)]
    public void Each_factor_s_gradient_is_scaled_by_the_other_s_inverse_gram_matrix(int rows, int columns, int rank)
    {
        var random = new Xoshiro256((ulong)(rows * 1000 + columns));
        var matrix = new LowRankMatrix<float>("w", rows, columns, rank);
        double[] u = Random(random, rows * rank, 3), v = Random(random, rank * columns, 0.5), du = Random(random, rows * rank, 1), dv = Random(random, rank * columns, 1);
        for (int i = 0; i < u.Length; i++) (matrix.Left.Value[i], matrix.Left.Gradient[i]) = ((float)u[i], (float)du[i]);
        for (int i = 0; i < v.Length; i++) (matrix.Right.Value[i], matrix.Right.Gradient[i]) = ((float)v[i], (float)dv[i]);

        LowRankGradientScaling<float>.For([matrix])!.Apply();

        // dU' = dU·(VVᵀ + λI)⁻¹, i.e. dU'ᵀ = (VVᵀ + λI)⁻¹·dUᵀ; dV' = (UᵀU + λI)⁻¹·dV.
        var duT = new double[rank, rows];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < rank; i++) duT[i, r] = (float)du[r * rank + i];
        var dvM = new double[rank, columns];
        for (int i = 0; i < rank; i++)
            for (int c = 0; c < columns; c++) dvM[i, c] = (float)dv[i * columns + c];
        double[] uf = [.. u.Select(x => (double)(float)x)], vf = [.. v.Select(x => (double)(float)x)];
        double[,] expectedLeftT = Solve(Gram(vf, rank, columns, wide: true), duT);
        double[,] expectedRight = Solve(Gram(uf, rank, rows, wide: false), dvM);
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < rank; i++)
                Assert.True(Math.Abs(matrix.Left.Gradient[r * rank + i] - expectedLeftT[i, r]) <= 1e-4 * (1 + Math.Abs(expectedLeftT[i, r])),
                    $"dU[{r},{i}] = {matrix.Left.Gradient[r * rank + i]}, expected {expectedLeftT[i, r]}");
        for (int i = 0; i < rank; i++)
            for (int c = 0; c < columns; c++)
                Assert.True(Math.Abs(matrix.Right.Gradient[i * columns + c] - expectedRight[i, c]) <= 1e-4 * (1 + Math.Abs(expectedRight[i, c])),
                    $"dV[{i},{c}] = {matrix.Right.Gradient[i * columns + c]}, expected {expectedRight[i, c]}");
    }

    [Fact]
    public void The_step_moves_W_by_the_projected_dense_gradient_whatever_the_factors_scale()
    {
        const int rows = 41, columns = 29, rank = 4;
        var random = new Xoshiro256(11);
        double[] g = Random(random, rows * columns, 1);
        foreach (double scale in new[] { 0.1, 1.0, 30.0 })
        {
            var matrix = new LowRankMatrix<float>("w", rows, columns, rank);
            double[] u = Random(random, rows * rank, scale), v = Random(random, rank * columns, scale);
            for (int i = 0; i < u.Length; i++) matrix.Left.Value[i] = (float)u[i];
            for (int i = 0; i < v.Length; i++) matrix.Right.Value[i] = (float)v[i];
            // The factors' gradients for dL/dW = G: dU = G·Vᵀ, dV = Uᵀ·G.
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < rank; i++)
                    matrix.Left.Gradient[r * rank + i] = (float)Enumerable.Range(0, columns).Sum(c => g[r * columns + c] * matrix.Right.Value[i * columns + c]);
            for (int i = 0; i < rank; i++)
                for (int c = 0; c < columns; c++)
                    matrix.Right.Gradient[i * columns + c] = (float)Enumerable.Range(0, rows).Sum(r => matrix.Left.Value[r * rank + i] * g[r * columns + c]);
            LowRankGradientScaling<float>.For([matrix])!.Apply();
            // First-order change of W: dU'·V + U·dV', which should be G·P_V + P_U·G, whose norm is at most 2‖G‖ and at least ‖G·P_V‖.
            double moved = 0, dense = 0;
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < columns; c++)
                {
                    double d = 0;
                    for (int i = 0; i < rank; i++)
                        d += matrix.Left.Gradient[r * rank + i] * matrix.Right.Value[i * columns + c] + matrix.Left.Value[r * rank + i] * matrix.Right.Gradient[i * columns + c];
                    moved += d * d;
                    dense += g[r * columns + c] * g[r * columns + c];
                }
            double ratio = Math.Sqrt(moved / dense);
            // Projections onto rank-4 subspaces of a 41 × 29 random G keep roughly sqrt(4/29 + 4/41) of it.
            Assert.InRange(ratio, 0.3, 0.75);
        }
    }

    [Fact]
    public void A_training_step_scales_the_factors_gradients_before_clipping_and_the_update()
    {
        // Two copies of one low-rank model take a step at learning rate 0 (so the factors keep their values), one with
        // scaling: the scaled copy's gradients are the other's, scaled.
        LanguageModel<float> Model()
        {
            var model = new LanguageModel<float>(new LanguageModelConfig(30, 12, 2));
            model.InitializeUniform(0.1, new Xoshiro256(3));
            new LstmCompression(CompressionMethod.Lmf, 4) { Matrices = ".*" }.Apply(model);
            return model;
        }
        int[] tokens = [.. Enumerable.Range(0, 13).Select(t => (t * 7 + 2) % 30)];
        LanguageModel<float> plain = Model(), scaled = Model();
        new TbpttStep<float>(plain, new SgdOptimizer<float>(), clip: 5, timeSummedLoss: true)
            .Run(tokens.AsSpan(0, 12), tokens.AsSpan(1, 12), 6, 2, plain.CreateState(2), learningRate: 0);
        new TbpttStep<float>(scaled, new SgdOptimizer<float>(), clip: 5, timeSummedLoss: true, scaledLowRank: true)
            .Run(tokens.AsSpan(0, 12), tokens.AsSpan(1, 12), 6, 2, scaled.CreateState(2), learningRate: 0);
        LowRankGradientScaling<float>.For(plain.WeightMatrices.Select(m => m.Matrix))!.Apply();
        int compared = 0;
        foreach ((Parameter<float> p, Parameter<float> s) in plain.Parameters.Zip(scaled.Parameters))
            for (int i = 0; i < p.Gradient.Length; i++, compared++)
                Assert.True(Math.Abs(p.Gradient[i] - s.Gradient[i]) <= 1e-6 * (1 + Math.Abs(p.Gradient[i])), $"{p.Name}[{i}]: {s.Gradient[i]} against {p.Gradient[i]}");
        Assert.True(compared > 300, $"{compared} gradients compared");
        Assert.Contains(scaled.WeightMatrices, m => m.Matrix is LowRankMatrix<float>);
    }

    [Fact]
    public void Only_low_rank_parts_are_scaled()
    {
        Assert.Null(LowRankGradientScaling<float>.For([new DenseMatrix<float>("w", 4, 3)]));
        var doped = new DopedMatrix<float>(new LowRankMatrix<float>("w.s", 6, 5, 2), new PrunedMatrix<float>("w.d", 6, 5));
        Assert.NotNull(LowRankGradientScaling<float>.For([doped]));
    }
}
