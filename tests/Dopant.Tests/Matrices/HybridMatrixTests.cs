using Dopant.Matrices;

namespace Dopant.Tests.Matrices;

public class HybridMatrixTests
{
    // As for LowRankMatrix: packed SGEMM, inner sizes below 40, unit-scale values.
    private const double FloatTolerance = 1e-5;

    // (rows, columns, dense rows, rank), including all-dense, all-low-rank and zero-rank bottoms.
    private static readonly (int M, int N, int D, int R)[] s_shapes =
        [(13, 7, 4, 2), (1, 1, 0, 1), (1, 1, 1, 0), (37, 29, 10, 5), (7, 13, 7, 0), (13, 7, 0, 3), (13, 7, 5, 0), (7, 13, 2, 5)];

    public static TheoryData<int, int, int, int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int, bool>();
        foreach ((int m, int n, int d, int r) in s_shapes)
            foreach (int count in WeightMatrixConformance.Counts)
                foreach (bool accumulate in new[] { false, true })
                    data.Add(m, n, d, r, count, accumulate);
        return data;
    }

    public static TheoryData<int, int, int, int> GradientShapes()
    {
        var data = new TheoryData<int, int, int, int>();
        foreach ((int m, int n, int d, int r) in s_shapes) data.Add(m, n, d, r);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Passes_equal_the_dense_product_in_double(int rows, int columns, int denseRows, int rank, int count, bool accumulate)
    {
        var matrix = new HybridMatrix<double>("rnn.weight_ih_l0", rows, columns, denseRows, rank);
        WeightMatrixConformance.Randomize(matrix, seed: rows + columns + denseRows + rank);
        WeightMatrixConformance.PassesMatchDense(matrix, count, accumulate, seed: count, tolerance: 1e-12);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Passes_equal_the_dense_product_in_float(int rows, int columns, int denseRows, int rank, int count, bool accumulate)
    {
        var matrix = new HybridMatrix<float>("rnn.weight_ih_l0", rows, columns, denseRows, rank);
        WeightMatrixConformance.Randomize(matrix, seed: rows + columns + denseRows + rank);
        WeightMatrixConformance.PassesMatchDense(matrix, count, accumulate, seed: count, tolerance: FloatTolerance);
    }

    [Theory]
    [MemberData(nameof(GradientShapes))]
    public void Gradients_match_finite_differences(int rows, int columns, int denseRows, int rank)
    {
        var matrix = new HybridMatrix<double>("w", rows, columns, denseRows, rank);
        WeightMatrixConformance.Randomize(matrix, seed: 21);
        WeightMatrixConformance.GradientsMatchFiniteDifferences(matrix, count: 5, seed: 22);
    }

    [Fact]
    public void The_top_rows_are_the_dense_parameter_and_the_rest_is_U_times_V()
    {
        var matrix = new HybridMatrix<double>("rnn.weight_hh_l0", 6, 4, 2, 1);
        Assert.Equal(["rnn.weight_hh_l0.hmd_dense", "rnn.weight_hh_l0.hmd_u", "rnn.weight_hh_l0.hmd_v"], matrix.Parameters.Select(p => p.Name));
        Assert.Equal([2, 4], matrix.Dense.Shape);
        Assert.Equal([4, 1], matrix.Left.Shape);
        Assert.Equal([1, 4], matrix.Right.Shape);
        Assert.Equal(2 * 4 + 1 * (4 + 4), matrix.ParameterCount);
        Assert.Equal(matrix.ParameterCount * sizeof(double), matrix.StorageBytes);

        WeightMatrixConformance.Randomize(matrix, seed: 3);
        double[] dense = matrix.ToDense();
        Assert.Equal(matrix.Dense.Value, dense.AsSpan(0, 8).ToArray());
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(matrix.Left.Value[i] * matrix.Right.Value[j], dense[(2 + i) * 4 + j]);
    }

    [Fact]
    public void Invalid_shapes_are_rejected()
    {
        Assert.Equal("denseRows", Assert.Throws<ArgumentOutOfRangeException>(() => new HybridMatrix<float>("w", 4, 3, 5, 0)).ParamName);
        Assert.Equal("rank", Assert.Throws<ArgumentOutOfRangeException>(() => new HybridMatrix<float>("w", 4, 3, 3, 2)).ParamName);
        Assert.Equal("rank", Assert.Throws<ArgumentOutOfRangeException>(() => new HybridMatrix<float>("w", 4, 3, 4, 1)).ParamName);
    }

    [Theory]
    [InlineData(13, 7, 4, 3)]
    [InlineData(37, 29, 10, 5)]
    [InlineData(7, 13, 2, 5)]
    [InlineData(5, 5, 5, 0)]
    public void Svd_initialization_recovers_a_matrix_whose_bottom_rows_have_rank_r(int rows, int columns, int denseRows, int rank)
    {
        var source = new HybridMatrix<double>("source", rows, columns, denseRows, rank);
        WeightMatrixConformance.Randomize(source, seed: rows + denseRows);
        double[] dense = source.ToDense();
        var fitted = HybridMatrix<double>.FromDense("fit", dense, rows, columns, denseRows, rank);
        Assert.Equal(dense.AsSpan(0, denseRows * columns).ToArray(), fitted.Dense.Value);
        WeightMatrixConformance.AssertClose("hybrid", dense, fitted.ToDense(), 1e-12);
    }

    [Theory]
    [InlineData(650, 2600, 10, 0.5)]
    [InlineData(650, 2600, 20, 0.25)]
    [InlineData(37, 29, 3, 0.5)]
    [InlineData(13, 7, 1, 0.5)]
    [InlineData(13, 7, 2, 1.0)]
    public void ShapeFor_gives_the_dense_rows_their_share_and_the_rest_to_the_rank(int rows, int columns, double factor, double fraction)
    {
        (int d, int r) = HybridMatrix<float>.ShapeFor(rows, columns, factor, fraction);
        double budget = (double)rows * columns / factor;
        Assert.Equal((int)Math.Min(rows, Math.Floor(fraction * budget / columns)), d);
        long used = (long)d * columns + (long)r * (rows - d + columns);
        Assert.True(used <= budget, $"{used} weights exceed the budget {budget}.");
        if (r < Math.Min(rows - d, columns))
            Assert.True(used + (rows - d + columns) > budget, "One more rank would still fit.");
        _ = new HybridMatrix<float>("w", rows, columns, d, r); // the shape is valid
    }

    [Fact]
    public void ShapeFor_defaults_to_half_the_budget_and_degenerates_to_low_rank_without_dense_rows()
    {
        Assert.Equal(0.5, HybridMatrix<float>.DefaultDenseFraction);
        Assert.Equal(HybridMatrix<float>.ShapeFor(650, 2600, 10, 0.5), HybridMatrix<float>.ShapeFor(650, 2600, 10));
        (int d, int r) = HybridMatrix<float>.ShapeFor(650, 2600, 10, denseFraction: 0);
        Assert.Equal(0, d);
        Assert.Equal(LowRankMatrix<float>.RankFor(650, 2600, 10), r);
        Assert.Throws<ArgumentOutOfRangeException>(() => HybridMatrix<float>.ShapeFor(650, 2600, 10, denseFraction: 1.5));
    }
}
