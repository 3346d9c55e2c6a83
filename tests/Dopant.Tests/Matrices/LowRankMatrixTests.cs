using Dopant.Matrices;

namespace Dopant.Tests.Matrices;

public class LowRankMatrixTests
{
    // Float passes go through the packed SGEMM twice (x·Vᵀ, then ·Uᵀ); with inner sizes below 40 and unit-scale
    // values the error stays well under 1e-5 of the largest output.
    private const double FloatTolerance = 1e-5;

    public static TheoryData<int, int, int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, int, bool>();
        foreach ((int m, int n, int r) in new[] { (13, 7, 3), (1, 1, 1), (37, 29, 5), (7, 13, 7) })
            foreach (int count in WeightMatrixConformance.Counts)
                foreach (bool accumulate in new[] { false, true })
                    data.Add(m, n, r, count, accumulate);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Passes_equal_the_dense_product_in_double(int rows, int columns, int rank, int count, bool accumulate)
    {
        var matrix = new LowRankMatrix<double>("rnn.weight_ih_l0", rows, columns, rank);
        WeightMatrixConformance.Randomize(matrix, seed: rows + columns + rank);
        WeightMatrixConformance.PassesMatchDense(matrix, count, accumulate, seed: count, tolerance: 1e-12);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Passes_equal_the_dense_product_in_float(int rows, int columns, int rank, int count, bool accumulate)
    {
        var matrix = new LowRankMatrix<float>("rnn.weight_ih_l0", rows, columns, rank);
        WeightMatrixConformance.Randomize(matrix, seed: rows + columns + rank);
        WeightMatrixConformance.PassesMatchDense(matrix, count, accumulate, seed: count, tolerance: FloatTolerance);
    }

    [Theory]
    [InlineData(13, 7, 3, 5)]
    [InlineData(1, 1, 1, 1)]
    [InlineData(37, 29, 5, 17)]
    [InlineData(7, 13, 7, 4)]
    public void Gradients_match_finite_differences(int rows, int columns, int rank, int count)
    {
        var matrix = new LowRankMatrix<double>("w", rows, columns, rank);
        WeightMatrixConformance.Randomize(matrix, seed: 11);
        WeightMatrixConformance.GradientsMatchFiniteDifferences(matrix, count, seed: 12);
    }

    [Fact]
    public void Names_shapes_and_sizes_follow_the_factors()
    {
        var matrix = new LowRankMatrix<float>("rnn.weight_hh_l1", 40, 30, 6);
        Assert.Equal(["rnn.weight_hh_l1.lmf_u", "rnn.weight_hh_l1.lmf_v"], matrix.Parameters.Select(p => p.Name));
        Assert.Equal([40, 6], matrix.Left.Shape);
        Assert.Equal([6, 30], matrix.Right.Shape);
        Assert.Equal(6 * (40 + 30), matrix.ParameterCount);
        Assert.Equal(6 * (40 + 30) * sizeof(float), matrix.StorageBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LowRankMatrix<float>("w", 4, 3, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LowRankMatrix<float>("w", 4, 3, 0));
    }

    [Theory]
    [InlineData(13, 7, 3)]
    [InlineData(37, 29, 5)]
    [InlineData(7, 13, 2)]
    [InlineData(6, 6, 6)]
    public void Svd_initialization_recovers_a_rank_r_matrix_exactly(int rows, int columns, int rank)
    {
        var random = new Random(rows * 31 + columns);
        var source = new LowRankMatrix<double>("source", rows, columns, rank);
        WeightMatrixConformance.Randomize(source, seed: random.Next());
        double[] dense = source.ToDense();

        var fitted = LowRankMatrix<double>.FromDense("fit", dense, rows, columns, rank);
        WeightMatrixConformance.AssertClose("U·V", dense, fitted.ToDense(), 1e-12);

        // The singular values are split evenly: column k of U and row k of V have the same norm √σ_k.
        for (int k = 0; k < rank; k++)
        {
            double left = Math.Sqrt(Enumerable.Range(0, rows).Sum(i => Math.Pow(fitted.Left.Value[i * rank + k], 2)));
            double right = Math.Sqrt(fitted.Right.Value.AsSpan(k * columns, columns).ToArray().Sum(v => v * v));
            Assert.Equal(left, right, 1e-10);
        }
    }

    [Fact]
    public void Svd_truncation_error_is_the_discarded_singular_values()
    {
        // W = diag(5, 3, 1) padded into 3×4 has singular values 5, 3, 1: the best rank-2 approximation misses only 1.
        double[] dense = [0, 0, 5, 0, 3, 0, 0, 0, 0, 0, 0, 1];
        var fitted = LowRankMatrix<double>.FromDense("w", dense, 3, 4, 2);
        double[] approx = fitted.ToDense();
        double error = Math.Sqrt(dense.Zip(approx, (a, b) => (a - b) * (a - b)).Sum());
        Assert.Equal(1, error, 1e-12);
        Assert.Equal(5, approx[2], 1e-12);
        Assert.Equal(3, approx[4], 1e-12);
    }

    [Fact]
    public void Svd_initialization_works_in_float()
    {
        var source = new LowRankMatrix<double>("s", 20, 9, 2);
        WeightMatrixConformance.Randomize(source, seed: 4);
        float[] dense = source.ToDense().Select(v => (float)v).ToArray();
        var fitted = LowRankMatrix<float>.FromDense("w", dense, 20, 9, 2);
        WeightMatrixConformance.AssertClose("U·V", WeightMatrixConformance.ToDouble(dense),
            WeightMatrixConformance.ToDouble(fitted.ToDense()), 1e-5);
        Assert.Throws<ArgumentException>(() => LowRankMatrix<float>.FromDense("w", dense, 20, 8, 2));
    }

    [Theory]
    [InlineData(650, 2600, 10, 52)]   // 52·3250 = 169000 = 650·2600/10 exactly: the boundary is allowed
    [InlineData(4, 4, 2, 1)]
    [InlineData(1, 1, 1, 0)]           // even rank 1 (2 weights) exceeds 1
    [InlineData(100, 100, 1, 50)]
    [InlineData(13, 7, 3.5, 1)]
    public void RankFor_gives_the_largest_rank_within_the_budget(int rows, int columns, double factor, int expected)
    {
        int rank = LowRankMatrix<float>.RankFor(rows, columns, factor);
        Assert.Equal(expected, rank);
        double budget = (double)rows * columns / factor;
        Assert.True(rank * (rows + columns) <= budget);
        Assert.True((rank + 1) * (rows + columns) > budget);
    }

    [Fact]
    public void RankFor_rejects_factors_below_one()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => LowRankMatrix<float>.RankFor(10, 10, 0.5));
        Assert.Equal("factor", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => LowRankMatrix<float>.RankFor(10, 10, double.NaN));
    }

    [Fact]
    public void Zero_count_does_nothing_and_short_spans_are_rejected()
    {
        var matrix = new LowRankMatrix<float>("w", 4, 3, 2);
        matrix.Forward([], [], 0, accumulate: false);
        Assert.Throws<ArgumentException>(() => matrix.Forward(new float[3], new float[3], 1, accumulate: false));
        Assert.Throws<ArgumentException>(() => matrix.BackwardInput(new float[4], new float[2], 1, accumulate: false));
    }
}
