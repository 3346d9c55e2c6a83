using Dopant.Matrices;
using Dopant.Numerics;
using Dopant.Tests.Models;

namespace Dopant.Tests.Matrices;

public class KroneckerChainMatrixTests
{
    // Deliberately odd: W is 42 × 30, nothing square, nothing a multiple of a SIMD width.
    private static readonly KroneckerChainShape Odd = new((3, 5), (2, 3), (7, 2));
    // Four factors, one of them a row vector and one a column vector: W is 12 × 24.
    private static readonly KroneckerChainShape Four = new((2, 3), (3, 2), (1, 2), (2, 2));

    private static KroneckerChainShape ShapeNamed(string name) => name == "odd" ? Odd : Four;

    public static TheoryData<string, int, int, bool> ShapeRankCountAccumulate()
    {
        var data = new TheoryData<string, int, int, bool>();
        foreach (string shape in new[] { "odd", "four" })
            foreach (int rank in new[] { 1, 2 })
                foreach (int count in new[] { 1, 7 })
                    foreach (bool accumulate in new[] { false, true })
                        data.Add(shape, rank, count, accumulate);
        return data;
    }

    public static TheoryData<string, int, int> ShapeRankCount()
    {
        var data = new TheoryData<string, int, int>();
        foreach (string shape in new[] { "odd", "four" })
            foreach (int rank in new[] { 1, 2 })
                foreach (int count in new[] { 1, 7 })
                    data.Add(shape, rank, count);
        return data;
    }

    [Theory]
    [InlineData("odd", 1)]
    [InlineData("odd", 3)]
    [InlineData("four", 2)]
    public void ToDense_is_the_product_of_factor_entries_at_the_mixed_radix_digits(string name, int rank)
    {
        KroneckerChainShape shape = ShapeNamed(name);
        KroneckerChainMatrix<double> matrix = RandomMatrix(shape, rank, seed: 1);
        double[] dense = matrix.ToDense();
        Assert.Equal((long)shape.Rows * shape.Columns, dense.Length);
        for (int i = 0; i < shape.Rows; i++)
            for (int j = 0; j < shape.Columns; j++)
                Assert.Equal(ExplicitEntry(matrix, i, j), dense[i * shape.Columns + j], 1e-14);
    }

    [Fact]
    public void Two_factor_chain_equals_the_Kronecker_product_with_the_same_factors()
    {
        var pair = new KroneckerShape(3, 5, 7, 2);
        KroneckerMatrix<double> product = KroneckerMatrixTests.RandomMatrix(pair, rank: 2, seed: 2);
        var chain = new KroneckerChainMatrix<double>("w", new KroneckerChainShape((3, 5), (7, 2)), rank: 2);
        product.Left.Value.CopyTo(chain.Factors[0].Value);
        product.Right.Value.CopyTo(chain.Factors[1].Value);
        Assert.Equal(product.ToDense(), chain.ToDense());
    }

    [Theory]
    [MemberData(nameof(ShapeRankCountAccumulate))]
    public void Passes_in_double_equal_the_dense_products(string name, int rank, int count, bool accumulate)
    {
        KroneckerChainMatrix<double> matrix = RandomMatrix(ShapeNamed(name), rank, seed: 3);
        WeightMatrixConformance.PassesMatchDense(matrix, count, accumulate, seed: 10 * rank + count, tolerance: 1e-12);
    }

    [Theory]
    [MemberData(nameof(ShapeRankCountAccumulate))]
    public void Passes_in_float_match_the_double_dense_products(string name, int rank, int count, bool accumulate)
    {
        var matrix = new KroneckerChainMatrix<float>("w", ShapeNamed(name), rank);
        WeightMatrixConformance.Randomize(matrix, seed: 4);
        WeightMatrixConformance.PassesMatchDense(matrix, count, accumulate, seed: 20 * rank + count, tolerance: 2e-5);
    }

    [Theory]
    [MemberData(nameof(ShapeRankCount))]
    public void AccumulateGradients_equals_the_chain_rule_through_the_dense_gradient(string name, int rank, int count)
    {
        // ∂L/∂W = Σ_s g_s·x_sᵀ, and ∂L/∂A_l,r[p, q] sums ∂L/∂W[i, j] · Π_{l'≠l} A_l',r[i_l', j_l'] over the (i, j)
        // whose l-th digits are (p, q).
        KroneckerChainShape shape = ShapeNamed(name);
        KroneckerChainMatrix<double> matrix = RandomMatrix(shape, rank, seed: 5);
        var random = new Random(30 + 10 * rank + count);
        double[] x = FiniteDifferences.RandomArray(random, count * shape.Columns);
        double[] g = FiniteDifferences.RandomArray(random, count * shape.Rows);
        var dw = new double[shape.Rows * shape.Columns];
        for (int s = 0; s < count; s++)
            for (int i = 0; i < shape.Rows; i++)
                for (int j = 0; j < shape.Columns; j++)
                    dw[i * shape.Columns + j] += g[s * shape.Rows + i] * x[s * shape.Columns + j];

        var expected = matrix.Factors.Select(p => new double[p.Length]).ToArray();
        for (int i = 0; i < shape.Rows; i++)
            for (int j = 0; j < shape.Columns; j++)
            {
                (int[] rowDigits, int[] columnDigits) = Digits(shape, i, j);
                for (int r = 0; r < rank; r++)
                    for (int l = 0; l < shape.Count; l++)
                    {
                        double others = 1;
                        for (int l2 = 0; l2 < shape.Count; l2++)
                            if (l2 != l) others *= Entry(matrix, r, l2, rowDigits[l2], columnDigits[l2]);
                        int size = shape.FactorSize(l);
                        expected[l][r * size + rowDigits[l] * shape.FactorColumns[l] + columnDigits[l]] += dw[i * shape.Columns + j] * others;
                    }
            }

        matrix.AccumulateGradients(x, g, count);
        for (int l = 0; l < shape.Count; l++)
            WeightMatrixConformance.AssertClose($"factor {l + 1}", expected[l], matrix.Factors[l].Gradient, 1e-12);
    }

    [Theory]
    [MemberData(nameof(ShapeRankCount))]
    public void Gradients_match_finite_differences(string name, int rank, int count)
    {
        KroneckerChainMatrix<double> matrix = RandomMatrix(ShapeNamed(name), rank, seed: 6);
        WeightMatrixConformance.GradientsMatchFiniteDifferences(matrix, count, seed: 40 + 10 * rank + count);
    }

    [Fact]
    public void Float_passes_at_language_model_size_match_the_dense_product()
    {
        // 2600 × 650, a 650-unit LSTM's input matrix, as 13×5 ⊗ 10×10 ⊗ 20×13: the packed multi-threaded SGEMM path.
        var shape = KroneckerChainShape.Parse("13x5*10x10*20x13");
        var matrix = new KroneckerChainMatrix<float>("rnn.weight_ih_l0", shape, rank: 2);
        matrix.InitializeUniform(0.5, new Xoshiro256(7));
        int count = 20;
        var random = new Random(7);
        float[] x = WeightMatrixConformance.RandomValues<float>(random, count * shape.Columns);
        float[] dy = WeightMatrixConformance.RandomValues<float>(random, count * shape.Rows);
        float[] w = matrix.ToDense();

        var y = new float[count * shape.Rows];
        var expectedY = new float[y.Length];
        matrix.Forward(x, y, count, accumulate: false);
        Blas.Gemm(false, true, count, shape.Rows, shape.Columns, 1f, x, shape.Columns, w, shape.Columns, 0f, expectedY, shape.Rows);
        var dx = new float[count * shape.Columns];
        var expectedDx = new float[dx.Length];
        matrix.BackwardInput(dy, dx, count, accumulate: false);
        Blas.Gemm(false, false, count, shape.Columns, shape.Rows, 1f, dy, shape.Rows, w, shape.Columns, 0f, expectedDx, shape.Columns);

        WeightMatrixConformance.AssertClose("Forward", WeightMatrixConformance.ToDouble(expectedY), WeightMatrixConformance.ToDouble(y), 1e-4);
        WeightMatrixConformance.AssertClose("BackwardInput", WeightMatrixConformance.ToDouble(expectedDx), WeightMatrixConformance.ToDouble(dx), 1e-4);
    }

    [Fact]
    public void Empty_batch_leaves_everything_unchanged()
    {
        KroneckerChainMatrix<double> matrix = RandomMatrix(Odd, 2, seed: 8);
        var y = new[] { 1.5 };
        matrix.Forward([], y, 0, accumulate: false);
        matrix.BackwardInput([], y, 0, accumulate: false);
        matrix.AccumulateGradients([], [], 0);
        Assert.Equal(1.5, y[0]);
        Assert.All(matrix.Factors, p => Assert.All(p.Gradient, v => Assert.Equal(0, v)));
    }

    [Fact]
    public void Parameters_are_named_and_counted()
    {
        var matrix = new KroneckerChainMatrix<float>("rnn.weight_ih_l0", Odd, rank: 3);
        Assert.Equal((42, 30), (matrix.Rows, matrix.Columns));
        Assert.Equal(["rnn.weight_ih_l0.kron_1", "rnn.weight_ih_l0.kron_2", "rnn.weight_ih_l0.kron_3"], matrix.Parameters.Select(p => p.Name));
        Assert.Equal([3, 3, 5], matrix.Factors[0].Shape);
        Assert.Equal([3, 2, 3], matrix.Factors[1].Shape);
        Assert.Equal([3, 7, 2], matrix.Factors[2].Shape);
        Assert.Equal(3 * (15 + 6 + 14), matrix.ParameterCount);
        Assert.Equal(matrix.Parameters.Sum(p => p.Length), matrix.ParameterCount);
        Assert.Equal(3 * 35 * sizeof(float), matrix.StorageBytes);
        Assert.Equal(3 * 35 * sizeof(double), new KroneckerChainMatrix<double>("w", Odd, 3).StorageBytes);
    }

    [Fact]
    public void Short_spans_and_bad_arguments_are_rejected()
    {
        var matrix = new KroneckerChainMatrix<double>("w", Odd);
        Assert.Throws<ArgumentException>(() => matrix.Forward(new double[59], new double[84], 2, false));
        Assert.Throws<ArgumentException>(() => matrix.Forward(new double[60], new double[83], 2, false));
        Assert.Throws<ArgumentException>(() => matrix.BackwardInput(new double[83], new double[60], 2, false));
        Assert.Throws<ArgumentException>(() => matrix.AccumulateGradients(new double[60], new double[83], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => matrix.Forward(new double[60], new double[84], -1, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KroneckerChainMatrix<double>("w", Odd, rank: 0));
        Assert.Throws<ArgumentNullException>(() => new KroneckerChainMatrix<double>("w", null!));
        Assert.Throws<ArgumentException>(() => KroneckerChainMatrix<double>.Nearest("w", Odd, new double[42 * 30 - 1]));
        // The first split of Odd is 15 × 84, so at most 15 chains can be fitted.
        Assert.Equal(15, Odd.MaxNearestRank);
        Assert.Throws<ArgumentOutOfRangeException>(() => KroneckerChainMatrix<double>.Nearest("w", Odd, new double[42 * 30], rank: 16));
    }

    [Theory]
    [InlineData("odd")]
    [InlineData("four")]
    public void Nearest_recovers_an_exact_chain_in_double(string name)
    {
        KroneckerChainShape shape = ShapeNamed(name);
        double[] w = RandomMatrix(shape, 1, seed: 9).ToDense();
        foreach (int sweeps in new[] { 0, 3 })
        {
            KroneckerChainMatrix<double> nearest = KroneckerChainMatrix<double>.Nearest("w", shape, w, sweeps: sweeps);
            Assert.True(RelativeError(w, nearest.ToDense()) < 1e-10, $"{sweeps} sweeps: relative error {RelativeError(w, nearest.ToDense()):E2}");
        }
    }

    [Fact]
    public void Nearest_recovers_an_exact_chain_in_float()
    {
        double[] w = RandomMatrix(Odd, 1, seed: 10).ToDense();
        KroneckerChainMatrix<float> nearest = KroneckerChainMatrix<float>.Nearest("w", Odd, w.Select(v => (float)v).ToArray());
        double error = RelativeError(w, WeightMatrixConformance.ToDouble(nearest.ToDense()));
        Assert.True(error < 1e-6, $"relative error {error:E2}");
    }

    [Fact]
    public void Nearest_balances_the_factor_norms()
    {
        KroneckerChainMatrix<double> source = RandomMatrix(Odd, 1, seed: 11);
        foreach (int k in Enumerable.Range(0, source.Factors[0].Length)) source.Factors[0].Value[k] *= 1000;
        KroneckerChainMatrix<double> nearest = KroneckerChainMatrix<double>.Nearest("w", Odd, source.ToDense());
        double[] norms = nearest.Factors.Select(p => Math.Sqrt(p.Value.Sum(v => v * v))).ToArray();
        Assert.All(norms, n => Assert.Equal(norms[0], n, 1e-9 * norms[0]));
    }

    [Fact]
    public void Nearest_with_two_factors_reaches_the_Van_Loan_Pitsianis_optimum()
    {
        var random = new Random(12);
        double[] w = FiniteDifferences.RandomArray(random, 21 * 10);
        double optimum = Distance(w, KroneckerMatrix<double>.Nearest("w", new KroneckerShape(3, 5, 7, 2), w, rank: 2).ToDense());
        double chain = Distance(w, KroneckerChainMatrix<double>.Nearest("w", new KroneckerChainShape((3, 5), (7, 2)), w, rank: 2).ToDense());
        Assert.Equal(optimum, chain, 1e-9);
    }

    [Theory]
    [InlineData("odd")]
    [InlineData("four")]
    public void Nearest_of_a_random_matrix_improves_with_sweeps_and_rank_and_beats_random_chains(string name)
    {
        KroneckerChainShape shape = ShapeNamed(name);
        double[] w = FiniteDifferences.RandomArray(new Random(13), shape.Rows * shape.Columns);
        double previousRank = double.PositiveInfinity;
        for (int rank = 1; rank <= 3; rank++)
        {
            double previousSweeps = double.PositiveInfinity;
            foreach (int sweeps in new[] { 0, 1, 3, 10 })
            {
                double residual = Distance(w, KroneckerChainMatrix<double>.Nearest("w", shape, w, rank, sweeps).ToDense());
                Assert.True(residual <= previousSweeps + 1e-12, $"rank {rank}, {sweeps} sweeps: {residual} is above {previousSweeps}.");
                previousSweeps = residual;
            }
            Assert.True(previousSweeps < previousRank, $"rank {rank}: {previousSweeps} is not below rank {rank - 1}'s {previousRank}.");
            previousRank = previousSweeps;
            for (int trial = 0; trial < 10; trial++)
                Assert.True(previousSweeps < Distance(w, RandomMatrix(shape, rank, seed: 100 * rank + trial).ToDense()));
        }
    }

    [Fact]
    public void InitializeUniform_stays_in_range_and_depends_on_the_seed()
    {
        var first = new KroneckerChainMatrix<double>("w", Odd, 2);
        var second = new KroneckerChainMatrix<double>("w", Odd, 2);
        first.InitializeUniform(0.1, new Xoshiro256(1));
        second.InitializeUniform(0.1, new Xoshiro256(2));
        Assert.All(first.Factors.SelectMany(p => p.Value), v => Assert.InRange(v, -0.1, 0.1));
        Assert.All(first.Factors, p => Assert.Contains(p.Value, v => v != 0));
        Assert.NotEqual(first.Factors[2].Value, second.Factors[2].Value);
    }

    internal static KroneckerChainMatrix<double> RandomMatrix(KroneckerChainShape shape, int rank, int seed)
    {
        var matrix = new KroneckerChainMatrix<double>("w", shape, rank);
        WeightMatrixConformance.Randomize(matrix, seed);
        return matrix;
    }

    /// <summary>The mixed-radix digits of row i over (m_1, …, m_k) and column j over (n_1, …, n_k), most significant first.</summary>
    private static (int[] Rows, int[] Columns) Digits(KroneckerChainShape shape, int i, int j)
    {
        int k = shape.Count;
        int[] rows = new int[k], columns = new int[k];
        for (int l = k - 1; l >= 0; l--)
        {
            rows[l] = i % shape.FactorRows[l];
            i /= shape.FactorRows[l];
            columns[l] = j % shape.FactorColumns[l];
            j /= shape.FactorColumns[l];
        }
        return (rows, columns);
    }

    private static double Entry(KroneckerChainMatrix<double> matrix, int rank, int factor, int row, int column)
    {
        int m = matrix.Shape.FactorRows[factor], n = matrix.Shape.FactorColumns[factor];
        return matrix.Factors[factor].Value[rank * m * n + row * n + column];
    }

    private static double ExplicitEntry(KroneckerChainMatrix<double> matrix, int i, int j)
    {
        (int[] rows, int[] columns) = Digits(matrix.Shape, i, j);
        double sum = 0;
        for (int r = 0; r < matrix.Rank; r++)
        {
            double product = 1;
            for (int l = 0; l < matrix.Shape.Count; l++) product *= Entry(matrix, r, l, rows[l], columns[l]);
            sum += product;
        }
        return sum;
    }

    private static double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (p, q) => (p - q) * (p - q)).Sum());

    private static double RelativeError(double[] expected, double[] actual) =>
        Distance(expected, actual) / Math.Sqrt(expected.Sum(v => v * v));
}
