using Dopant.Matrices;

namespace Dopant.Tests.Matrices;

public class KroneckerShapeTests
{
    [Fact]
    public void Sizes_parameters_and_flops_follow_the_factors()
    {
        var shape = new KroneckerShape(52, 25, 50, 26);
        Assert.Equal(2600, shape.Rows);
        Assert.Equal(650, shape.Columns);
        Assert.Equal(1300 + 1300, shape.ParameterCount());
        Assert.Equal(3 * 2600, shape.ParameterCount(3));
        Assert.Equal(2600.0 * 650 / 2600, shape.CompressionFactor());
        Assert.Equal(650, shape.AttainableRank);
        Assert.Equal(2L * 7 * 2 * (25 * 26 * 50 + 52 * 25 * 50), shape.ForwardFlops(7, 2));
        Assert.Equal(2, new KroneckerShape(1300, 1, 2, 650).AttainableRank); // rank(a column) · rank(2 × 650)
    }

    [Theory]
    [InlineData(2600, 650, 25)]
    [InlineData(2600, 650, 400)]
    [InlineData(800, 400, 10)]
    [InlineData(800, 400, 50)]
    [InlineData(650, 650, 25)]
    [InlineData(21, 10, 2)]
    public void Choose_divides_the_sizes_meets_the_factor_and_is_best_by_the_documented_order(int rows, int columns, double target)
    {
        foreach (int rank in new[] { 1, 3 })
        {
            KroneckerShape chosen = KroneckerShape.Choose(rows, columns, target, rank);
            Assert.Equal(rows, chosen.Rows);
            Assert.Equal(columns, chosen.Columns);
            List<KroneckerShape> feasible = AllShapes(rows, columns).Where(s => s.CompressionFactor(rank) >= target).ToList();
            if (feasible.Count == 0)
            {
                // Out of reach (e.g. 400× with 3 products): the closest, i.e. the fewest weights.
                Assert.Equal(AllShapes(rows, columns).Min(s => s.ParameterCount(rank)), chosen.ParameterCount(rank));
                continue;
            }
            Assert.True(chosen.CompressionFactor(rank) >= target, $"{chosen} rank {rank}: factor {chosen.CompressionFactor(rank)} < {target}.");

            // No feasible candidate beats it on attainable rank, then balance.
            foreach (KroneckerShape other in feasible)
            {
                Assert.True(other.AttainableRank <= chosen.AttainableRank, $"{other} can express more than {chosen}.");
                if (other.AttainableRank == chosen.AttainableRank)
                    Assert.True(Imbalance(other) >= Imbalance(chosen), $"{other} is more balanced than {chosen}.");
            }
        }
    }

    [Fact]
    public void Choose_for_a_650_unit_lstm_gives_square_ish_full_rank_factors()
    {
        KroneckerShape chosen = KroneckerShape.Choose(2600, 650, 25);
        Assert.Equal(650, chosen.AttainableRank);
        Assert.True(Imbalance(chosen) <= 200, $"{chosen} is unbalanced.");
        Assert.True(chosen.MaxRankFor(25) >= 10, $"{chosen} leaves little budget for rank.");
        Assert.True(chosen.CompressionFactor(chosen.MaxRankFor(25)) >= 25);
        Assert.True(chosen.CompressionFactor(chosen.MaxRankFor(25) + 1) < 25);
    }

    [Fact]
    public void Choose_when_no_shape_reaches_the_target_returns_the_fewest_parameters()
    {
        // 7 × 5: the candidates are 1×1 ⊗ 7×5 and 7×5 ⊗ 1×1 (36 weights), 7×1 ⊗ 1×5 and 1×5 ⊗ 7×1 (12 weights);
        // the last two tie on rank and balance and 7×1 ⊗ 1×5 needs fewer flops.
        Assert.Equal(new KroneckerShape(7, 1, 1, 5), KroneckerShape.Choose(7, 5, 100));
        Assert.Equal(new KroneckerShape(7, 1, 1, 5), KroneckerShape.ChooseForParameters(7, 5, 3));
    }

    [Fact]
    public void ChooseForParameters_keeps_within_the_budget()
    {
        foreach (long budget in new long[] { 5_200, 8_000, 20_000, 67_600 })
        {
            KroneckerShape chosen = KroneckerShape.ChooseForParameters(2600, 650, budget, rank: 2);
            Assert.Equal(2600, chosen.Rows);
            Assert.Equal(650, chosen.Columns);
            Assert.True(chosen.ParameterCount(2) <= budget, $"{chosen}: {chosen.ParameterCount(2)} > {budget}.");
        }
        Assert.Equal(KroneckerShape.Choose(800, 400, 800.0 * 400 / 5000), KroneckerShape.ChooseForParameters(800, 400, 5000));
    }

    [Fact]
    public void Choose_rejects_bad_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KroneckerShape.Choose(0, 10, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => KroneckerShape.Choose(10, 10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => KroneckerShape.Choose(10, 10, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => KroneckerShape.Choose(10, 10, 2, rank: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => KroneckerShape.ChooseForParameters(10, 10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KroneckerShape(0, 1, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KroneckerShape(1, 1, 1, -2));
    }

    [Theory]
    [InlineData("52x25,50x26", 52, 25, 50, 26)]
    [InlineData(" 3 X 5 , 7×2 ", 3, 5, 7, 2)]
    [InlineData("1x1,1x1", 1, 1, 1, 1)]
    public void Parse_reads_two_factors(string text, int m1, int n1, int m2, int n2)
    {
        KroneckerShape shape = KroneckerShape.Parse(text);
        Assert.Equal(new KroneckerShape(m1, n1, m2, n2), shape);
        Assert.Equal(shape, KroneckerShape.Parse(shape.ToString()));
    }

    [Fact]
    public void ToString_is_the_parse_format()
    {
        Assert.Equal("52x25,50x26", new KroneckerShape(52, 25, 50, 26).ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("52x25")]
    [InlineData("52x25,50")]
    [InlineData("52x25,50x26,1x1")]
    [InlineData("0x25,50x26")]
    [InlineData("-1x25,50x26")]
    [InlineData("axb,50x26")]
    [InlineData("1.5x2,3x3")]
    [InlineData("52x,50x26")]
    [InlineData("52*25,50*26")]
    [InlineData("99999999999x1,1x1")]
    public void Parse_rejects_malformed_text_with_the_expected_format_in_the_message(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => KroneckerShape.Parse(text));
        Assert.Contains("M1xN1,M2xN2", ex.Message);
        Assert.Equal("text", ex.ParamName);
    }

    [Fact]
    public void Parse_with_sizes_rejects_a_shape_of_another_size()
    {
        Assert.Equal(new KroneckerShape(52, 25, 50, 26), KroneckerShape.Parse("52x25,50x26", 2600, 650));
        var ex = Assert.Throws<ArgumentException>(() => KroneckerShape.Parse("52x25,50x26", 2600, 651));
        Assert.Contains("2600×650", ex.Message);
    }

    private static IEnumerable<KroneckerShape> AllShapes(int rows, int columns)
    {
        for (int m1 = 1; m1 <= rows; m1++)
            for (int n1 = 1; n1 <= columns; n1++)
                if (rows % m1 == 0 && columns % n1 == 0)
                    yield return new KroneckerShape(m1, n1, rows / m1, columns / n1);
    }

    private static long Imbalance(KroneckerShape shape) => Math.Abs(shape.LeftSize - shape.RightSize);
}
