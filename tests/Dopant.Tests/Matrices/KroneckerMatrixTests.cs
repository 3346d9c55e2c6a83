using Dopant.Matrices;
using Dopant.Numerics;
using Dopant.Tests.Models;

namespace Dopant.Tests.Matrices;

public class KroneckerMatrixTests
{
    // Deliberately odd: nothing square, nothing a multiple of a SIMD width. W is 21 × 10.
    private static readonly KroneckerShape Odd = new(3, 5, 7, 2);
    private static readonly KroneckerShape Flipped = new(7, 2, 3, 5);

    // The products take A·(X·Bᵀ) or (A·X)·Bᵀ, whichever is cheaper: Odd takes one order forward and the other
    // backward, Flipped the reverse, so each order and each gradient path is checked on both.
    public static TheoryData<int, int, bool, bool> RankCountAccumulate()
    {
        var data = new TheoryData<int, int, bool, bool>();
        foreach (int rank in new[] { 1, 3 })
            foreach (int count in new[] { 1, 13 })
                foreach (bool accumulate in new[] { false, true })
                    foreach (bool flipped in new[] { false, true })
                        data.Add(rank, count, accumulate, flipped);
        return data;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ToDense_is_the_sum_of_explicit_Kronecker_products(int rank)
    {
        KroneckerMatrix<double> matrix = RandomMatrix(Odd, rank, seed: 1);
        double[] expected = ExplicitKronecker(Odd, rank, matrix.Left.Value, matrix.Right.Value);
        Assert.Equal(expected, matrix.ToDense());
    }

    [Fact]
    public void Index_convention_puts_a_times_b_at_the_block_position()
    {
        // (A ⊗ B)[i1·M2 + i2, j1·N2 + j2] = A[i1, j1]·B[i2, j2], checked on one hand-picked element.
        var matrix = new KroneckerMatrix<double>("w", new KroneckerShape(2, 3, 4, 5));
        matrix.Left.Value[1 * 3 + 2] = 3;   // A[1, 2]
        matrix.Right.Value[2 * 5 + 4] = 7;  // B[2, 4]
        double[] dense = matrix.ToDense();
        Assert.Equal(21, dense[(1 * 4 + 2) * 15 + 2 * 5 + 4]);
        Assert.Equal(21, dense.Sum());
    }

    [Theory]
    [MemberData(nameof(RankCountAccumulate))]
    public void Forward_in_double_equals_x_times_dense_transpose(int rank, int count, bool accumulate, bool flipped)
    {
        KroneckerShape shape = flipped ? Flipped : Odd;
        var random = new Random(10 * rank + count);
        KroneckerMatrix<double> matrix = RandomMatrix(shape, rank, seed: 2);
        double[] w = matrix.ToDense();
        double[] x = FiniteDifferences.RandomArray(random, count * shape.Columns);
        double[] y0 = FiniteDifferences.RandomArray(random, count * shape.Rows);
        double[] expected = DenseProduct(x, w, count, shape.Rows, shape.Columns, transposeW: true, accumulate ? y0 : null);

        var y = (double[])y0.Clone();
        matrix.Forward(x, y, count, accumulate);
        AssertClose(expected, y, 1e-12);
    }

    [Theory]
    [MemberData(nameof(RankCountAccumulate))]
    public void BackwardInput_in_double_equals_dy_times_dense(int rank, int count, bool accumulate, bool flipped)
    {
        KroneckerShape shape = flipped ? Flipped : Odd;
        var random = new Random(100 + 10 * rank + count);
        KroneckerMatrix<double> matrix = RandomMatrix(shape, rank, seed: 3);
        double[] w = matrix.ToDense();
        double[] dy = FiniteDifferences.RandomArray(random, count * shape.Rows);
        double[] dx0 = FiniteDifferences.RandomArray(random, count * shape.Columns);
        double[] expected = DenseProduct(dy, w, count, shape.Rows, shape.Columns, transposeW: false, accumulate ? dx0 : null);

        var dx = (double[])dx0.Clone();
        matrix.BackwardInput(dy, dx, count, accumulate);
        AssertClose(expected, dx, 1e-12);
    }

    [Theory]
    [MemberData(nameof(RankCountAccumulate))]
    public void Forward_and_backward_in_float_match_the_double_dense_product(int rank, int count, bool accumulate, bool flipped)
    {
        KroneckerShape shape = flipped ? Flipped : Odd;
        var random = new Random(200 + 10 * rank + count);
        KroneckerMatrix<double> reference = RandomMatrix(shape, rank, seed: 4);
        var matrix = new KroneckerMatrix<float>("w", shape, rank);
        CopyFactors(reference, matrix);
        double[] w = reference.ToDense();
        double[] x = FiniteDifferences.RandomArray(random, count * shape.Columns);
        double[] y0 = FiniteDifferences.RandomArray(random, count * shape.Rows);
        double[] dy = FiniteDifferences.RandomArray(random, count * shape.Rows);
        double[] dx0 = FiniteDifferences.RandomArray(random, count * shape.Columns);

        float[] y = ToFloat(y0), dx = ToFloat(dx0);
        matrix.Forward(ToFloat(x), y, count, accumulate);
        matrix.BackwardInput(ToFloat(dy), dx, count, accumulate);

        AssertClose(DenseProduct(x, w, count, shape.Rows, shape.Columns, true, accumulate ? y0 : null), y.Select(v => (double)v).ToArray(), 1e-5);
        AssertClose(DenseProduct(dy, w, count, shape.Rows, shape.Columns, false, accumulate ? dx0 : null), dx.Select(v => (double)v).ToArray(), 1e-5);
        AssertClose(w, matrix.ToDense().Select(v => (double)v).ToArray(), 1e-6);
    }

    [Fact]
    public void Float_forward_at_language_model_size_matches_the_dense_product()
    {
        // 2600 × 650, the input-to-hidden matrix of a 650-unit LSTM: the packed multi-threaded SGEMM path.
        var shape = new KroneckerShape(52, 25, 50, 26);
        var matrix = new KroneckerMatrix<float>("rnn.weight_ih_l0", shape, rank: 2);
        matrix.InitializeUniform(0.3, new Xoshiro256(5));
        int count = 20;
        var random = new Random(6);
        float[] x = ToFloat(FiniteDifferences.RandomArray(random, count * shape.Columns));
        float[] dy = ToFloat(FiniteDifferences.RandomArray(random, count * shape.Rows));
        float[] w = matrix.ToDense();

        var y = new float[count * shape.Rows];
        var expectedY = new float[y.Length];
        matrix.Forward(x, y, count, accumulate: false);
        Blas.Gemm(false, true, count, shape.Rows, shape.Columns, 1f, x, shape.Columns, w, shape.Columns, 0f, expectedY, shape.Rows);
        var dx = new float[count * shape.Columns];
        var expectedDx = new float[dx.Length];
        matrix.BackwardInput(dy, dx, count, accumulate: false);
        Blas.Gemm(false, false, count, shape.Columns, shape.Rows, 1f, dy, shape.Rows, w, shape.Columns, 0f, expectedDx, shape.Columns);

        AssertClose(expectedY.Select(v => (double)v).ToArray(), y.Select(v => (double)v).ToArray(), 1e-4);
        AssertClose(expectedDx.Select(v => (double)v).ToArray(), dx.Select(v => (double)v).ToArray(), 1e-4);
    }

    [Theory]
    [InlineData(1, 1, false)]
    [InlineData(1, 13, false)]
    [InlineData(3, 1, false)]
    [InlineData(3, 13, false)]
    [InlineData(1, 13, true)]
    [InlineData(3, 13, true)]
    public void Gradients_match_finite_differences(int rank, int count, bool flipped)
    {
        foreach (KroneckerRoute route in new[] { KroneckerRoute.Direct, KroneckerRoute.Dense })
            GradientsMatchFiniteDifferences(rank, count, flipped, route);
    }

    private static void GradientsMatchFiniteDifferences(int rank, int count, bool flipped, KroneckerRoute route)
    {
        KroneckerShape shape = flipped ? Flipped : Odd;
        var random = new Random(300 + 10 * rank + count);
        KroneckerMatrix<double> matrix = RandomMatrix(shape, rank, seed: 7);
        matrix.Route = route;
        double[] x = FiniteDifferences.RandomArray(random, count * shape.Columns);
        double[] g = FiniteDifferences.RandomArray(random, count * shape.Rows);
        var y = new double[g.Length];
        double Loss()
        {
            matrix.Forward(x, y, count, accumulate: false);
            return g.Zip(y, (a, b) => a * b).Sum();
        }

        matrix.AccumulateGradients(x, g, count);
        FiniteDifferences.Check("kron_a", matrix.Left.Value, matrix.Left.Gradient, Loss, tolerance: 1e-7);
        FiniteDifferences.Check("kron_b", matrix.Right.Value, matrix.Right.Gradient, Loss, tolerance: 1e-7);

        // The input gradient of the same loss is BackwardInput(g).
        var dx = new double[x.Length];
        matrix.BackwardInput(g, dx, count, accumulate: false);
        FiniteDifferences.Check("x", x, dx, Loss, tolerance: 1e-7);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 13)]
    [InlineData(2, 20)]
    public void Both_routes_and_a_run_of_steps_give_the_same_passes_in_double_and_float(int rank, int count)
    {
        foreach (KroneckerShape shape in new[] { Odd, Flipped })
        {
            var random = new Random(40 + rank * count);
            KroneckerMatrix<double> direct = RandomMatrix(shape, rank, seed: 3), dense = RandomMatrix(shape, rank, seed: 3);
            (direct.Route, dense.Route) = (KroneckerRoute.Direct, KroneckerRoute.Dense);
            double[] x = FiniteDifferences.RandomArray(random, count * shape.Columns), dy = FiniteDifferences.RandomArray(random, count * shape.Rows);
            double[] y0 = FiniteDifferences.RandomArray(random, count * shape.Rows), dx0 = FiniteDifferences.RandomArray(random, count * shape.Columns);
            foreach (bool accumulate in new[] { false, true })
            {
                double[] y1 = (double[])y0.Clone(), y2 = (double[])y0.Clone(), dx1 = (double[])dx0.Clone(), dx2 = (double[])dx0.Clone();
                direct.Forward(x, y1, count, accumulate);
                dense.Forward(x, y2, count, accumulate);
                direct.BackwardInput(dy, dx1, count, accumulate);
                dense.BackwardInput(dy, dx2, count, accumulate);
                AssertClose(y1, y2, 1e-12);
                AssertClose(dx1, dx2, 1e-12);
            }
            direct.AccumulateGradients(x, dy, count);
            dense.AccumulateGradients(x, dy, count);
            AssertClose(direct.Left.Gradient, dense.Left.Gradient, 1e-12);
            AssertClose(direct.Right.Gradient, dense.Right.Gradient, 1e-12);

            // float, inside a run of steps (W packed once), against the double product.
            var single = new KroneckerMatrix<float>("w", shape, rank) { Route = KroneckerRoute.Dense };
            for (int k = 0; k < single.Left.Length; k++) single.Left.Value[k] = (float)direct.Left.Value[k];
            for (int k = 0; k < single.Right.Length; k++) single.Right.Value[k] = (float)direct.Right.Value[k];
            float[] ys = new float[count * shape.Rows], dxs = new float[count * shape.Columns];
            double[] yd = new double[ys.Length], dxd = new double[dxs.Length];
            direct.Forward(x, yd, count, false);
            direct.BackwardInput(dy, dxd, count, false);
            single.BeginSteps();
            for (int repeat = 0; repeat < 2; repeat++)
            {
                single.Forward([.. x.Select(v => (float)v)], ys, count, false);
                single.BackwardInput([.. dy.Select(v => (float)v)], dxs, count, false);
                AssertClose(yd, [.. ys.Select(v => (double)v)], 1e-5);
                AssertClose(dxd, [.. dxs.Select(v => (double)v)], 1e-5);
            }
            single.EndSteps();
            single.Left.Value[0] += 1;  // after the run, a changed value is seen again
            single.Forward([.. x.Select(v => (float)v)], ys, count, false);
            Assert.NotEqual((float)yd[0], ys[0]);
        }
    }

    [Fact]
    public void The_route_follows_the_costs()
    {
        // Medium's 2600×650 as 52×25 ⊗ 50×26: rank 2 multiplies factored, rank 3 not.
        var shape = new KroneckerShape(52, 25, 50, 26);
        var rankTwo = new KroneckerMatrix<float>("w", shape, rank: 2);
        Assert.False(rankTwo.UsesDenseRoute);
        Assert.True(new KroneckerMatrix<float>("w", shape, rank: 3).UsesDenseRoute);
        rankTwo.Route = KroneckerRoute.Dense;
        Assert.True(rankTwo.UsesDenseRoute);
        // The 10,000 × 650 decoder as 200×13 ⊗ 50×50: its deeper products pay at rank 6 (6.7x fewer multiply-adds), not at 12.
        var decoder = new KroneckerShape(200, 13, 50, 50);
        Assert.False(new KroneckerMatrix<float>("w", decoder, rank: 6).UsesDenseRoute);
        Assert.True(new KroneckerMatrix<float>("w", decoder, rank: 12).UsesDenseRoute);
    }

    [Theory]
    [InlineData(5, 9, 3, 7, 6, 11)]     // N2 not a multiple of 4, rank past one vector of 4
    [InlineData(3, 5, 7, 2, 1, 1)]      // Odd at rank 1, one sample
    [InlineData(11, 3, 2, 5, 21, 4)]    // a rank wider than 16
    public void Float_gradients_on_the_dense_route_match_the_double_product(int m1, int n1, int m2, int n2, int rank, int count)
    {
        var shape = new KroneckerShape(m1, n1, m2, n2);
        var random = new Random(m1 * 31 + rank);
        KroneckerMatrix<double> reference = RandomMatrix(shape, rank, seed: 12);
        reference.Route = KroneckerRoute.Dense;
        var single = new KroneckerMatrix<float>("w", shape, rank) { Route = KroneckerRoute.Dense };
        for (int k = 0; k < single.Left.Length; k++) single.Left.Value[k] = (float)reference.Left.Value[k];
        for (int k = 0; k < single.Right.Length; k++) single.Right.Value[k] = (float)reference.Right.Value[k];
        double[] x = FiniteDifferences.RandomArray(random, count * shape.Columns), dy = FiniteDifferences.RandomArray(random, count * shape.Rows);
        float[] xs = [.. x.Select(v => (float)v)], dys = [.. dy.Select(v => (float)v)];
        for (int repeat = 0; repeat < 2; repeat++)  // the second adds to the first
        {
            reference.AccumulateGradients(x, dy, count);
            single.AccumulateGradients(xs, dys, count);
        }
        AssertClose(reference.Left.Gradient, [.. single.Left.Gradient.Select(v => (double)v)], 1e-4);
        AssertClose(reference.Right.Gradient, [.. single.Right.Gradient.Select(v => (double)v)], 1e-4);
    }

    [Fact]
    public void AccumulateGradients_adds_to_the_existing_gradient()
    {
        var random = new Random(8);
        KroneckerMatrix<double> matrix = RandomMatrix(Odd, 2, seed: 8);
        double[] x = FiniteDifferences.RandomArray(random, 4 * Odd.Columns);
        double[] g = FiniteDifferences.RandomArray(random, 4 * Odd.Rows);
        matrix.AccumulateGradients(x, g, 4);
        double[] once = [.. matrix.Left.Gradient, .. matrix.Right.Gradient];
        matrix.AccumulateGradients(x, g, 4);
        double[] twice = [.. matrix.Left.Gradient, .. matrix.Right.Gradient];
        AssertClose(once.Select(v => 2 * v).ToArray(), twice, 1e-14);
    }

    [Fact]
    public void Empty_batch_leaves_everything_unchanged()
    {
        KroneckerMatrix<double> matrix = RandomMatrix(Odd, 2, seed: 9);
        var y = new[] { 1.5 };
        matrix.Forward([], y, 0, accumulate: false);
        matrix.BackwardInput([], y, 0, accumulate: false);
        matrix.AccumulateGradients([], [], 0);
        Assert.Equal(1.5, y[0]);
        Assert.All(matrix.Left.Gradient, v => Assert.Equal(0, v));
    }

    [Fact]
    public void Parameters_are_named_and_counted()
    {
        var matrix = new KroneckerMatrix<float>("rnn.weight_ih_l0", Odd, rank: 3);
        Assert.Equal(21, matrix.Rows);
        Assert.Equal(10, matrix.Columns);
        Assert.Equal(["rnn.weight_ih_l0.kron_a", "rnn.weight_ih_l0.kron_b"], matrix.Parameters.Select(p => p.Name));
        Assert.Equal([3, 3, 5], matrix.Left.Shape);
        Assert.Equal([3, 7, 2], matrix.Right.Shape);
        Assert.Equal(3 * (15 + 14), matrix.ParameterCount);
        Assert.Equal(Odd.ParameterCount(3), matrix.ParameterCount);
        Assert.Equal(3 * (15 + 14) * sizeof(float), matrix.StorageBytes);
        Assert.Equal(3 * (15 + 14) * sizeof(double), new KroneckerMatrix<double>("w", Odd, 3).StorageBytes);
    }

    [Fact]
    public void Short_spans_and_bad_arguments_are_rejected()
    {
        var matrix = new KroneckerMatrix<double>("w", Odd);
        Assert.Throws<ArgumentException>(() => matrix.Forward(new double[19], new double[42], 2, false));
        Assert.Throws<ArgumentException>(() => matrix.Forward(new double[20], new double[41], 2, false));
        Assert.Throws<ArgumentException>(() => matrix.BackwardInput(new double[41], new double[20], 2, false));
        Assert.Throws<ArgumentException>(() => matrix.AccumulateGradients(new double[20], new double[41], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KroneckerMatrix<double>("w", Odd, rank: 0));
        Assert.Throws<ArgumentException>(() => new KroneckerMatrix<double>("w", default));
        Assert.Throws<ArgumentException>(() => KroneckerMatrix<double>.Nearest("w", Odd, new double[209]));
        Assert.Throws<ArgumentOutOfRangeException>(() => KroneckerMatrix<double>.Nearest("w", Odd, new double[210], rank: 15));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void Nearest_recovers_an_exact_sum_of_Kronecker_products(int rank, bool flipped)
    {
        // Flipped makes B the larger factor, so the other side of the rearranged matrix is decomposed.
        KroneckerShape shape = flipped ? Flipped : Odd;
        var random = new Random(11 + rank);
        double[] a = FiniteDifferences.RandomArray(random, (int)(rank * shape.LeftSize));
        double[] b = FiniteDifferences.RandomArray(random, (int)(rank * shape.RightSize));
        double[] w = ExplicitKronecker(shape, rank, a, b);

        KroneckerMatrix<double> nearest = KroneckerMatrix<double>.Nearest("w", shape, w, rank);
        Assert.Equal(rank, nearest.Rank);
        AssertClose(w, nearest.ToDense(), 1e-9);

        // Asking for more products than the matrix holds adds nothing.
        KroneckerMatrix<double> more = KroneckerMatrix<double>.Nearest("w", shape, w, rank + 2);
        AssertClose(w, more.ToDense(), 1e-9);
    }

    [Fact]
    public void Nearest_in_float_recovers_an_exact_product()
    {
        var random = new Random(12);
        double[] w = ExplicitKronecker(Odd, 1, FiniteDifferences.RandomArray(random, 15), FiniteDifferences.RandomArray(random, 14));
        KroneckerMatrix<float> nearest = KroneckerMatrix<float>.Nearest("w", Odd, ToFloat(w));
        AssertClose(w, nearest.ToDense().Select(v => (double)v).ToArray(), 1e-5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Nearest_of_a_random_matrix_beats_random_and_perturbed_products_and_improves_with_rank(bool flipped)
    {
        KroneckerShape shape = flipped ? Flipped : Odd;
        var random = new Random(13);
        double[] w = FiniteDifferences.RandomArray(random, shape.Rows * shape.Columns);

        double previous = double.PositiveInfinity;
        for (int rank = 1; rank <= 4; rank++)
        {
            KroneckerMatrix<double> nearest = KroneckerMatrix<double>.Nearest("w", shape, w, rank);
            double residual = Distance(w, nearest.ToDense());
            Assert.True(residual < previous - 1e-9, $"rank {rank}: residual {residual} is not below {previous}.");
            previous = residual;

            for (int trial = 0; trial < 20; trial++)
            {
                KroneckerMatrix<double> other = RandomMatrix(shape, rank, seed: 1000 * rank + trial);
                Assert.True(residual <= Distance(w, other.ToDense()), $"rank {rank}: a random product is closer.");

                // A small perturbation of the optimum is never closer (it is a minimum, not just better than noise).
                KroneckerMatrix<double> perturbed = KroneckerMatrix<double>.Nearest("w", shape, w, rank);
                var noise = new Random(trial);
                foreach (Parameter<double> p in perturbed.Parameters)
                    for (int k = 0; k < p.Length; k++) p.Value[k] += 1e-3 * (2 * noise.NextDouble() - 1);
                Assert.True(residual <= Distance(w, perturbed.ToDense()) + 1e-12, $"rank {rank}: a perturbed optimum is closer.");
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Nearest_residual_is_the_discarded_singular_values_of_the_rearranged_matrix(bool flipped)
    {
        // Eckart–Young on R(W): ‖W − Σ_{r<R} A_r ⊗ B_r‖² = Σ_{r≥R} σ_r², with σ from an independent SVD.
        KroneckerShape shape = flipped ? Flipped : Odd;
        var random = new Random(15);
        double[] w = FiniteDifferences.RandomArray(random, shape.Rows * shape.Columns);
        var rearranged = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense((int)shape.LeftSize, (int)shape.RightSize,
            (row, column) => w[((row / shape.N1) * shape.M2 + column / shape.N2) * shape.Columns + (row % shape.N1) * shape.N2 + column % shape.N2]);
        double[] sigma = rearranged.Svd(computeVectors: false).S.ToArray();
        for (int rank = 1; rank <= 5; rank++)
        {
            double residual = Distance(w, KroneckerMatrix<double>.Nearest("w", shape, w, rank).ToDense());
            double expected = Math.Sqrt(sigma.Skip(rank).Sum(v => v * v));
            Assert.Equal(expected, residual, 1e-9);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Nearest_at_full_rank_reproduces_any_matrix(bool flipped)
    {
        // With rank min(M1·N1, M2·N2) every singular triplet is used, so the sum reproduces any matrix.
        KroneckerShape shape = flipped ? Flipped : Odd;
        var random = new Random(14);
        double[] w = FiniteDifferences.RandomArray(random, shape.Rows * shape.Columns);
        KroneckerMatrix<double> full = KroneckerMatrix<double>.Nearest("w", shape, w, rank: 14);
        AssertClose(w, full.ToDense(), 1e-9);
    }

    [Fact]
    public void InitializeUniform_stays_in_range_and_depends_on_the_seed()
    {
        var first = new KroneckerMatrix<double>("w", Odd, 2);
        var second = new KroneckerMatrix<double>("w", Odd, 2);
        first.InitializeUniform(0.1, new Xoshiro256(1));
        second.InitializeUniform(0.1, new Xoshiro256(2));
        Assert.All(first.Left.Value.Concat(first.Right.Value), v => Assert.InRange(v, -0.1, 0.1));
        Assert.Contains(first.Left.Value, v => v != 0);
        Assert.NotEqual(first.Left.Value, second.Left.Value);
    }

    internal static KroneckerMatrix<double> RandomMatrix(KroneckerShape shape, int rank, int seed)
    {
        var matrix = new KroneckerMatrix<double>("w", shape, rank);
        var random = new Random(seed);
        foreach (Parameter<double> p in matrix.Parameters) FiniteDifferences.Fill(random, p.Value, 1);
        return matrix;
    }

    /// <summary>Σ_r A_r ⊗ B_r by the definition, one element at a time.</summary>
    private static double[] ExplicitKronecker(KroneckerShape shape, int rank, double[] a, double[] b)
    {
        int rows = shape.Rows, columns = shape.Columns;
        var w = new double[rows * columns];
        for (int r = 0; r < rank; r++)
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < columns; j++)
                {
                    int i1 = i / shape.M2, i2 = i % shape.M2, j1 = j / shape.N2, j2 = j % shape.N2;
                    w[i * columns + j] += a[r * shape.M1 * shape.N1 + i1 * shape.N1 + j1] * b[r * shape.M2 * shape.N2 + i2 * shape.N2 + j2];
                }
        return w;
    }

    /// <summary>v·Wᵀ (v is count × columns) or v·W (v is count × rows), plus <paramref name="initial"/> when given.</summary>
    private static double[] DenseProduct(double[] v, double[] w, int count, int rows, int columns, bool transposeW, double[]? initial)
    {
        int inner = transposeW ? columns : rows, outer = transposeW ? rows : columns;
        var result = initial is null ? new double[count * outer] : (double[])initial.Clone();
        for (int s = 0; s < count; s++)
            for (int o = 0; o < outer; o++)
            {
                double sum = 0;
                for (int k = 0; k < inner; k++)
                    sum += v[s * inner + k] * (transposeW ? w[o * columns + k] : w[k * columns + o]);
                result[s * outer + o] += sum;
            }
        return result;
    }

    private static void CopyFactors(KroneckerMatrix<double> from, KroneckerMatrix<float> to)
    {
        for (int k = 0; k < from.Left.Length; k++) to.Left.Value[k] = (float)from.Left.Value[k];
        for (int k = 0; k < from.Right.Length; k++) to.Right.Value[k] = (float)from.Right.Value[k];
    }

    private static float[] ToFloat(double[] values) => values.Select(v => (float)v).ToArray();

    private static double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (p, q) => (p - q) * (p - q)).Sum());

    /// <summary>Elementwise |expected − actual| ≤ tolerance·max(1, |expected|).</summary>
    private static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++)
        {
            double error = Math.Abs(expected[k] - actual[k]);
            Assert.True(error <= tolerance * Math.Max(1, Math.Abs(expected[k])),
                $"[{k}]: expected {expected[k]:R}, got {actual[k]:R} (error {error:E2}, tolerance {tolerance:E0}).");
        }
    }
}
