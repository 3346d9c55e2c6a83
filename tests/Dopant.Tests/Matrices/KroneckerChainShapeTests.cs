using Dopant.Matrices;

namespace Dopant.Tests.Matrices;

public class KroneckerChainShapeTests
{
    [Theory]
    [InlineData("13x5*10x10*20x13", 2600, 650)]
    [InlineData("4x2*6x3", 24, 6)]
    [InlineData("2x3*3x2*1x2*2x2", 12, 24)]
    public void Parse_and_ToString_round_trip(string text, int rows, int columns)
    {
        KroneckerChainShape shape = KroneckerChainShape.Parse(text);
        Assert.Equal(text, shape.ToString());
        Assert.Equal((rows, columns), (shape.Rows, shape.Columns));
        Assert.Equal(shape, KroneckerChainShape.Parse(shape.ToString(), rows, columns));
        Assert.Equal(shape.GetHashCode(), KroneckerChainShape.Parse(text).GetHashCode());
        Assert.Equal(text.Count(c => c == '*') + 1, shape.Count);
    }

    [Fact]
    public void Parse_accepts_spaces_and_other_separators()
    {
        Assert.Equal(new KroneckerChainShape((13, 5), (10, 10), (20, 13)), KroneckerChainShape.Parse(" 13 x 5 * 10X10 * 20×13 "));
        Assert.NotEqual(new KroneckerChainShape((13, 5), (10, 10)), new KroneckerChainShape((10, 10), (13, 5)));
    }

    [Theory]
    [InlineData("", "two or more factors")]
    [InlineData("4x2", "two or more factors")]
    [InlineData("4x2,6x3", "two or more factors")]
    [InlineData("4x2*", "factor 2 ''")]
    [InlineData("4x2*6", "factor 2 '6'")]
    [InlineData("4x2*0x3", "factor 2 '0x3'")]
    [InlineData("4x2*ax3*2x2", "factor 2 'ax3'")]
    [InlineData("4x-2*6x3", "factor 1 '4x-2'")]
    [InlineData("100000x1*100000x1", "too large")]
    public void Bad_text_is_rejected_with_a_message_that_names_the_problem(string text, string problem)
    {
        var e = Assert.Throws<ArgumentException>(() => KroneckerChainShape.Parse(text));
        Assert.Contains(problem, e.Message);
        Assert.Contains($"'{text}'", e.Message);
    }

    [Fact]
    public void Parse_with_a_size_rejects_a_shape_of_another_size()
    {
        var e = Assert.Throws<ArgumentException>(() => KroneckerChainShape.Parse("4x2*6x3", 24, 7));
        Assert.Contains("24×6 matrix, not 24×7", e.Message);
        Assert.Throws<ArgumentException>(() => new KroneckerChainShape((4, 2)));
        Assert.Throws<ArgumentException>(() => new KroneckerChainShape((4, 2), (0, 3)));
    }

    [Fact]
    public void Counts_follow_the_factor_sizes()
    {
        KroneckerChainShape shape = KroneckerChainShape.Parse("13x5*10x10*20x13");
        Assert.Equal(65 + 100 + 260, shape.ParameterCount());
        Assert.Equal(3 * 425, shape.ParameterCount(3));
        Assert.Equal(2600.0 * 650 / 425, shape.CompressionFactor());
        Assert.Equal(650, shape.AttainableRank);                   // 5·10·13 = 650
        Assert.Equal(65, shape.MaxNearestRank);
        Assert.Equal(2600 * 650 / (25 * 425), shape.MaxRankFor(25)); // 159
        Assert.Equal(1, shape.MaxRankFor(1e9));
        // A_3 meets [5·10·13] inputs and makes 20 outputs, A_2 [5·10]·[10·20], A_1 [5]·[13·10·20].
        long perSample = 650 * 20 + 5 * 10 * 10 * 20 + 5 * 13 * 10 * 20;
        Assert.Equal(2 * 7 * 2 * perSample, shape.ForwardFlops(7, rank: 2));
    }

    [Theory]
    [InlineData(2600, 650, 3, 25)]
    [InlineData(2600, 650, 4, 25)]
    [InlineData(800, 200, 3, 10)]
    [InlineData(800, 200, 4, 100)]
    [InlineData(24, 6, 3, 2)]
    [InlineData(42, 30, 3, 4)]
    public void Choose_meets_the_target_and_no_candidate_is_better(int rows, int columns, int factors, double target)
    {
        KroneckerChainShape chosen = KroneckerChainShape.Choose(rows, columns, factors, target);
        Assert.Equal((rows, columns, factors), (chosen.Rows, chosen.Columns, chosen.Count));
        Assert.True(chosen.CompressionFactor() >= target, $"{chosen}: {chosen.CompressionFactor():F1}x < {target}x");
        Assert.DoesNotContain(Enumerable.Range(0, factors), i => chosen.FactorSize(i) == 1);

        // Brute force over every shape: none feasible with a higher attainable rank, or as high and more balanced.
        foreach (KroneckerChainShape other in AllShapes(rows, columns, factors).Where(s => s.CompressionFactor() >= target))
        {
            Assert.True(other.AttainableRank <= chosen.AttainableRank, $"{other} attains rank {other.AttainableRank} > {chosen.AttainableRank} of {chosen}");
            if (other.AttainableRank == chosen.AttainableRank)
                Assert.True(Largest(other) >= Largest(chosen), $"{other} is more balanced than {chosen}");
            if (other.AttainableRank == chosen.AttainableRank && Largest(other) == Largest(chosen) && other.ParameterCount() == chosen.ParameterCount())
                Assert.True(other.ForwardFlops(1) >= chosen.ForwardFlops(1), $"{other} is as balanced as {chosen} and cheaper");
        }
    }

    [Fact]
    public void Choose_prefers_balanced_factors_for_a_cube()
    {
        // 64 × 64 in three factors: 4×4 ⊗ 4×4 ⊗ 4×4 is the only shape with every factor of 16 elements.
        Assert.Equal(KroneckerChainShape.Parse("4x4*4x4*4x4"), KroneckerChainShape.Choose(64, 64, 3, 2));
    }

    [Fact]
    public void An_unreachable_target_gives_the_fewest_parameters()
    {
        KroneckerChainShape chosen = KroneckerChainShape.Choose(24, 6, 3, 1e6);
        long fewest = AllShapes(24, 6, 3).Min(s => s.ParameterCount());
        Assert.Equal(fewest, chosen.ParameterCount());
    }

    [Fact]
    public void ChooseForParameters_stays_within_the_budget()
    {
        foreach (long budget in new long[] { 800, 2000, 10000 })
        {
            KroneckerChainShape chosen = KroneckerChainShape.ChooseForParameters(2600, 650, 3, budget, rank: 2);
            Assert.True(chosen.ParameterCount(2) <= budget, $"{chosen} at rank 2 has {chosen.ParameterCount(2)} > {budget}");
            Assert.Equal((2600, 650), (chosen.Rows, chosen.Columns));
        }
    }

    [Fact]
    public void Choose_rejects_sizes_that_cannot_be_split_and_bad_arguments()
    {
        var e = Assert.Throws<ArgumentException>(() => KroneckerChainShape.Choose(7, 1, 3, 2));
        Assert.Contains("no 3-factor", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => KroneckerChainShape.Choose(24, 6, 1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => KroneckerChainShape.Choose(24, 6, 3, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => KroneckerChainShape.Choose(0, 6, 3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => KroneckerChainShape.ChooseForParameters(24, 6, 3, 0));
    }

    private static int Largest(KroneckerChainShape shape) => Enumerable.Range(0, shape.Count).Max(shape.FactorSize);

    /// <summary>Every shape without a 1×1 factor, by plain enumeration.</summary>
    private static IEnumerable<KroneckerChainShape> AllShapes(int rows, int columns, int factors)
    {
        foreach (int[] m in Tuples(rows, factors))
            foreach (int[] n in Tuples(columns, factors))
                if (!m.Zip(n).Any(p => p.First * p.Second == 1))
                    yield return new KroneckerChainShape(m.Zip(n).ToArray());
    }

    private static IEnumerable<int[]> Tuples(int value, int parts)
    {
        if (parts == 1)
        {
            yield return [value];
            yield break;
        }
        for (int d = 1; d <= value; d++)
            if (value % d == 0)
                foreach (int[] rest in Tuples(value / d, parts - 1))
                    yield return [d, .. rest];
    }
}
