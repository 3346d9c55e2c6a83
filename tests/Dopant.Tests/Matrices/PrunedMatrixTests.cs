using Dopant.Matrices;

namespace Dopant.Tests.Matrices;

public class PrunedMatrixTests
{
    // One packed SGEMM over at most 29 inner terms of unit scale.
    private const double FloatTolerance = 1e-5;

    public static TheoryData<int, int, double, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, double, int, bool>();
        foreach ((int m, int n, double s) in new[] { (13, 7, 0.5), (1, 1, 0.0), (1, 1, 1.0), (37, 29, 0.8), (7, 13, 0.3) })
            foreach (int count in WeightMatrixConformance.Counts)
                foreach (bool accumulate in new[] { false, true })
                    data.Add(m, n, s, count, accumulate);
        return data;
    }

    private static PrunedMatrix<T> RandomPruned<T>(int rows, int columns, double sparsity, int seed)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var matrix = new PrunedMatrix<T>("decoder", rows, columns);
        WeightMatrixConformance.Randomize(matrix, seed);
        matrix.PruneToSparsity(sparsity);
        return matrix;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Passes_equal_the_masked_dense_product_in_double(int rows, int columns, double sparsity, int count, bool accumulate)
    {
        PrunedMatrix<double> matrix = RandomPruned<double>(rows, columns, sparsity, seed: rows + columns);
        WeightMatrixConformance.PassesMatchDense(matrix, count, accumulate, seed: count, tolerance: 1e-12);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Passes_equal_the_masked_dense_product_in_float(int rows, int columns, double sparsity, int count, bool accumulate)
    {
        PrunedMatrix<float> matrix = RandomPruned<float>(rows, columns, sparsity, seed: rows + columns);
        WeightMatrixConformance.PassesMatchDense(matrix, count, accumulate, seed: count, tolerance: FloatTolerance);
    }

    [Theory]
    [InlineData(13, 7, 0.5)]
    [InlineData(1, 1, 0.0)]
    [InlineData(37, 29, 0.8)]
    [InlineData(7, 13, 0.0)]
    public void Gradients_match_finite_differences_and_vanish_on_pruned_entries(int rows, int columns, double sparsity)
    {
        PrunedMatrix<double> matrix = RandomPruned<double>(rows, columns, sparsity, seed: 5);
        WeightMatrixConformance.GradientsMatchFiniteDifferences(matrix, count: 5, seed: 6);
        for (int k = 0; k < matrix.Mask.Length; k++)
            if (matrix.Mask[k] == 0) Assert.Equal(0, matrix.Weight.Gradient[k]);
    }

    [Theory]
    [InlineData(37, 29, 0.5, 537)]   // 536.5 rounds away from zero
    [InlineData(10, 10, 0.3, 30)]    // 0.3·100 = 30.000000000000004 in double: rounding, not ceiling
    [InlineData(10, 10, 0.29, 29)]   // 0.29·100 = 28.999999999999996: rounding, not flooring
    [InlineData(13, 7, 0.0, 0)]
    [InlineData(13, 7, 1.0, 91)]
    [InlineData(3, 3, 0.5, 5)]       // 4.5 → 5
    public void Sparsity_is_hit_exactly_with_the_pruned_count_rounded_to_nearest(int rows, int columns, double sparsity, int expected)
    {
        PrunedMatrix<double> matrix = RandomPruned<double>(rows, columns, sparsity, seed: 7);
        Assert.Equal(expected, matrix.PrunedCount);
        Assert.Equal(expected, matrix.Mask.ToArray().Count(v => v == 0));
        Assert.Equal((double)expected / (rows * columns), matrix.Sparsity);
        Assert.Equal(rows * columns - expected, matrix.ParameterCount);
        Assert.All(matrix.Mask.ToArray(), v => Assert.True(v == 0 || v == 1));
    }

    [Fact]
    public void The_smallest_magnitudes_are_pruned()
    {
        PrunedMatrix<double> matrix = RandomPruned<double>(37, 29, 0.6, seed: 8);
        double[] w = matrix.Weight.Value;
        var original = new PrunedMatrix<double>("decoder", 37, 29);
        WeightMatrixConformance.Randomize(original, seed: 8);
        double largestPruned = Enumerable.Range(0, w.Length).Where(k => matrix.Mask[k] == 0).Max(k => Math.Abs(original.Weight.Value[k]));
        double smallestKept = Enumerable.Range(0, w.Length).Where(k => matrix.Mask[k] == 1).Min(k => Math.Abs(w[k]));
        Assert.True(largestPruned <= smallestKept);
        Assert.All(Enumerable.Range(0, w.Length).Where(k => matrix.Mask[k] == 0), k => Assert.Equal(0, w[k]));
    }

    [Fact]
    public void Ties_are_broken_by_index_and_signs_do_not_matter()
    {
        var matrix = PrunedMatrix<double>.FromDense("w", [1, -1, 1, -1, 0.5, 1, -1, 1, 1, 1, -1, 1], 3, 4);
        matrix.PruneToSparsity(0.5);
        // 0.5 at index 4 first, then the five lowest indices among the equal magnitudes.
        Assert.Equal([0.0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1], matrix.Mask.ToArray());
    }

    [Fact]
    public void Pruned_entries_stay_pruned_after_a_gradient_step_and_a_second_pruning()
    {
        var random = new Random(9);
        PrunedMatrix<double> matrix = RandomPruned<double>(37, 29, 0.5, seed: 10);
        bool[] prunedFirst = matrix.Mask.ToArray().Select(v => v == 0).ToArray();

        // An SGD step with weight decay: the decay term would move nothing (pruned values are 0), and the gradient is 0 there.
        double[] x = WeightMatrixConformance.RandomValues<double>(random, 5 * 29);
        double[] dy = WeightMatrixConformance.RandomValues<double>(random, 5 * 37);
        matrix.Weight.ZeroGradient();
        matrix.AccumulateGradients(x, dy, 5);
        for (int k = 0; k < matrix.Weight.Length; k++)
            matrix.Weight.Value[k] -= 0.1 * (matrix.Weight.Gradient[k] + 1e-4 * matrix.Weight.Value[k]);
        for (int k = 0; k < prunedFirst.Length; k++)
            if (prunedFirst[k]) Assert.Equal(0, matrix.Weight.Value[k]);

        // A momentum-like optimizer could move a pruned value; the passes ignore it and ApplyMask clears it.
        int somePruned = Array.IndexOf(prunedFirst, true);
        matrix.Weight.Value[somePruned] = 5;
        Assert.Equal(0, matrix.ToDense()[somePruned]);
        WeightMatrixConformance.PassesMatchDense(matrix, 3, accumulate: false, seed: 1, tolerance: 1e-12);
        matrix.ApplyMask();
        Assert.Equal(0, matrix.Weight.Value[somePruned]);

        long added = matrix.PruneToSparsity(0.75);
        Assert.Equal((long)Math.Round(0.75 * 37 * 29, MidpointRounding.AwayFromZero) - 537, added);
        for (int k = 0; k < prunedFirst.Length; k++)
            if (prunedFirst[k]) Assert.Equal(0, matrix.Mask[k]);

        // Never un-prune: a lower target changes nothing.
        double[] maskBefore = matrix.Mask.ToArray();
        Assert.Equal(0, matrix.PruneToSparsity(0.2));
        Assert.Equal(maskBefore, matrix.Mask.ToArray());
    }

    [Fact]
    public void Storage_is_the_csr_size_of_the_kept_entries()
    {
        PrunedMatrix<float> matrix = RandomPruned<float>(13, 7, 0.5, seed: 11);
        long kept = 91 - 46;
        Assert.Equal(kept, matrix.ParameterCount);
        Assert.Equal(kept * sizeof(float) + kept * sizeof(int) + 14 * sizeof(int), matrix.StorageBytes);
        CsrMatrix<float> csr = matrix.ToCsr();
        Assert.Equal(matrix.StorageBytes, csr.StorageBytes);
        Assert.Equal(matrix.ToDense(), csr.ToDense());
        Assert.Equal("decoder.weight", Assert.Single(matrix.Parameters).Name);
    }

    [Fact]
    public void A_mask_can_be_restored_and_is_validated()
    {
        PrunedMatrix<double> source = RandomPruned<double>(7, 13, 0.4, seed: 12);
        var restored = PrunedMatrix<double>.FromDense("w", source.Weight.Value, source.Mask, 7, 13);
        Assert.Equal(source.PrunedCount, restored.PrunedCount);
        Assert.Equal(source.ToDense(), restored.ToDense());
        Assert.Throws<ArgumentException>(() => PrunedMatrix<double>.FromDense("w", new double[4], [1, 0, 0.5, 1], 2, 2));
        Assert.Equal("sparsity", Assert.Throws<ArgumentOutOfRangeException>(() => source.PruneToSparsity(1.5)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => source.PruneToSparsity(double.NaN));
    }
}
