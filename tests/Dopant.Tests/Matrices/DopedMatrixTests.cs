using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Tests.Matrices;

public class DopedMatrixTests
{
    private const double FloatTolerance = 1e-5;

    // A doped Kronecker matrix (3×5 ⊗ 4×3 = 12×15) or doped low-rank matrix, with S pruned to the given sparsity.
    private static DopedMatrix<T> Doped<T>(string structure, double sparsity, int seed) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        IWeightMatrix<T> m = structure == "kp"
            ? new KroneckerMatrix<T>("rnn.weight_hh_l0", new KroneckerShape(3, 5, 4, 3))
            : new LowRankMatrix<T>("rnn.weight_hh_l0", 12, 15, 2);
        var s = new PrunedMatrix<T>("rnn.weight_hh_l0.doping", 12, 15);
        var doped = new DopedMatrix<T>(m, s);
        WeightMatrixConformance.Randomize(doped, seed);
        s.PruneToSparsity(sparsity);
        return doped;
    }

    public static TheoryData<string, double, int, bool> Cases()
    {
        var data = new TheoryData<string, double, int, bool>();
        foreach (string structure in new[] { "kp", "lmf" })
            foreach (double sparsity in new[] { 0.0, 0.9 })
                foreach (int count in WeightMatrixConformance.Counts)
                    foreach (bool accumulate in new[] { false, true })
                        data.Add(structure, sparsity, count, accumulate);
        return data;
    }

    // On the factored route with S sparse, a run of steps multiplies by M + S formed once; outside it, by the two parts.
    [Theory]
    [InlineData(0.5, false)]
    [InlineData(0.95, false)]
    [InlineData(0.95, true)]
    public void A_doped_kronecker_matrix_multiplies_by_m_plus_s_formed_once_in_a_run_of_steps(double sparsity, bool factored)
    {
        DopedMatrix<float> doped = Doped<float>("kp", sparsity, seed: 5);
        var kronecker = (KroneckerMatrix<float>)doped.Structure;
        if (factored) kronecker.Route = KroneckerRoute.Direct;
        Assert.Equal(!factored, kronecker.UsesDenseRoute);
        Assert.Equal(sparsity > 0.9, doped.Sparse.TrainsSparse);
        float[] w = doped.ToDense();
        var random = new Random(5);
        float[] x = [.. Enumerable.Range(0, 7 * 15).Select(_ => (float)random.NextDouble() - 0.5f)];
        float[] dy = [.. Enumerable.Range(0, 7 * 12).Select(_ => (float)random.NextDouble() - 0.5f)];
        float[] y = new float[7 * 12], dx = new float[7 * 15];
        doped.BeginSteps();
        for (int repeat = 0; repeat < 2; repeat++)
        {
            doped.Forward(x, y, 7, accumulate: false);
            doped.BackwardInput(dy, dx, 7, accumulate: false);
            for (int b = 0; b < 7; b++)
            {
                for (int i = 0; i < 12; i++)
                    Assert.Equal(Enumerable.Range(0, 15).Sum(j => (double)w[i * 15 + j] * x[b * 15 + j]), y[b * 12 + i], FloatTolerance);
                for (int j = 0; j < 15; j++)
                    Assert.Equal(Enumerable.Range(0, 12).Sum(i => (double)w[i * 15 + j] * dy[b * 12 + i]), dx[b * 15 + j], FloatTolerance);
            }
        }
        doped.EndSteps();
        WeightMatrixConformance.PassesMatchDense(doped, 7, accumulate: true, seed: 6, tolerance: FloatTolerance);
    }

    // Forming M + S and splitting ∂L/∂W touch S's kept entries alone once it trains sparse: the same sums, bit for bit.
    [Theory]
    [InlineData(0.5)]
    [InlineData(0.97)]
    public void S_adds_its_kept_entries_to_a_formed_w_and_takes_their_gradient(double sparsity)
    {
        DopedMatrix<float> doped = Doped<float>("kp", sparsity, seed: 8);
        PrunedMatrix<float> s = doped.Sparse;
        Assert.Equal(sparsity > 0.9, s.TrainsSparse);
        var random = new Random(8);
        float[] formed = [.. Enumerable.Range(0, 12 * 15).Select(_ => (float)random.NextDouble() - 0.5f)];
        float[] gradient = [.. Enumerable.Range(0, 12 * 15).Select(_ => (float)random.NextDouble() - 0.5f)];
        float[] expectedFormed = [.. formed.Select((f, k) => s.Mask[k] == 0 ? f : f + s.Weight.Value[k])];
        float[] expectedGradient = [.. s.Weight.Gradient.Select((g, k) => s.Mask[k] == 0 ? g : g + gradient[k])];
        s.AddMaskedTo(formed);
        s.AccumulateDenseGradient(gradient);
        Assert.Equal(expectedFormed, formed);
        Assert.Equal(expectedGradient, s.Weight.Gradient);
    }

    // A large S still too dense to train sparse: the masked adds run in chunks over two threads, the same sums.
    [Fact]
    public void A_large_dense_S_adds_to_a_formed_w_and_takes_its_gradient_in_parallel_chunks()
    {
        const int Rows = 401, Columns = 353;
        var random = new Random(21);
        var s = new PrunedMatrix<float>("s", Rows, Columns);
        float[] mask = [.. Enumerable.Range(0, Rows * Columns).Select(_ => random.NextDouble() < 0.5 ? 1f : 0f)];
        s.RestoreMask(mask);
        for (int k = 0; k < mask.Length; k++) s.Weight.Value[k] = mask[k] * ((float)random.NextDouble() - 0.5f);
        Assert.False(s.TrainsSparse);
        float[] formed = [.. Enumerable.Range(0, Rows * Columns).Select(_ => (float)random.NextDouble() - 0.5f)];
        float[] gradient = [.. Enumerable.Range(0, Rows * Columns).Select(_ => (float)random.NextDouble() - 0.5f)];
        float[] expectedFormed = [.. formed.Select((f, k) => MathF.FusedMultiplyAdd(s.Weight.Value[k], mask[k], f))];
        float[] expectedGradient = [.. s.Weight.Gradient.Select((g, k) => MathF.FusedMultiplyAdd(gradient[k], mask[k], g))];
        int threads = WorkerPool.SharedThreadCount;
        WorkerPool.SharedThreadCount = 2;
        try
        {
            s.AddMaskedTo(formed);
            s.AccumulateDenseGradient(gradient);
        }
        finally
        {
            WorkerPool.SharedThreadCount = threads;
        }
        Assert.Equal(expectedFormed, formed);
        Assert.Equal(expectedGradient, s.Weight.Gradient);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Passes_equal_the_dense_sum_of_both_parts(string structure, double sparsity, int count, bool accumulate)
    {
        WeightMatrixConformance.PassesMatchDense(Doped<double>(structure, sparsity, seed: 3), count, accumulate, seed: count, tolerance: 1e-12);
        WeightMatrixConformance.PassesMatchDense(Doped<float>(structure, sparsity, seed: 3), count, accumulate, seed: count, tolerance: FloatTolerance);
    }

    [Fact]
    public void Dense_form_is_structure_plus_masked_sparse_and_structure_alone_when_sparse_is_off()
    {
        DopedMatrix<double> doped = Doped<double>("kp", 0.8, seed: 4);
        double[] structure = doped.Structure.ToDense(), sparse = doped.Sparse.ToDense(), dense = doped.ToDense();
        for (int i = 0; i < dense.Length; i++)
        {
            Assert.Equal(structure[i] + sparse[i], dense[i], 1e-15);
            if (doped.Sparse.Mask[i] == 0) Assert.Equal(0.0, sparse[i]);
        }
        doped.SparseEnabled = false;
        Assert.Equal(structure, doped.ToDense());
        WeightMatrixConformance.PassesMatchDense(doped, 5, accumulate: true, seed: 9, tolerance: 1e-12);
    }

    [Theory]
    [InlineData("kp", 0.0, 1, 1)]
    [InlineData("kp", 0.9, 17, 1)]
    [InlineData("lmf", 0.5, 5, 5)]
    [InlineData("kp", 0.5, 12, 4)]
    public void Gradients_match_finite_differences_with_and_without_co_matrix_dropout(string structure, double sparsity, int count, int batch)
    {
        DopedMatrix<double> doped = Doped<double>(structure, sparsity, seed: count);
        WeightMatrixConformance.GradientsMatchFiniteDifferences(doped, count, seed: 11);

        var random = new Xoshiro256(7);
        doped.SparseDropout = new CoMatrixDropout<double>(doped.Rows, 0.5);
        doped.SparseDropout.Resample(random, batch);
        doped.StructureDropout = new CoMatrixDropout<double>(doped.Rows, 0.25);
        doped.StructureDropout.Resample(random, batch);
        WeightMatrixConformance.GradientsMatchFiniteDifferences(doped, count, seed: 12);
    }

    [Fact]
    public void Co_matrix_dropout_scales_each_paths_output_by_its_mask_row_of_the_sample()
    {
        DopedMatrix<double> doped = Doped<double>("lmf", 0.5, seed: 5);
        const int batch = 3, steps = 2, count = batch * steps;
        var random = new Random(1);
        double[] x = WeightMatrixConformance.RandomValues<double>(random, count * doped.Columns);
        double[] structureOut = new double[count * doped.Rows], sparseOut = new double[count * doped.Rows];
        doped.Structure.Forward(x, structureOut, count, accumulate: false);
        doped.Sparse.Forward(x, sparseOut, count, accumulate: false);

        doped.SparseDropout = new CoMatrixDropout<double>(doped.Rows, 0.4);
        doped.SparseDropout.Resample(new Xoshiro256(3), batch);
        double[] y = new double[count * doped.Rows];
        doped.Forward(x, y, count, accumulate: false);
        ReadOnlySpan<double> mask = doped.SparseDropout.Mask;
        for (int r = 0; r < count; r++)
            for (int i = 0; i < doped.Rows; i++)
            {
                double expected = structureOut[r * doped.Rows + i] + mask[r % batch * doped.Rows + i] * sparseOut[r * doped.Rows + i];
                Assert.Equal(expected, y[r * doped.Rows + i], 1e-12);
            }

        doped.SparseDropout.Deactivate();
        doped.Forward(x, y, count, accumulate: false);
        for (int k = 0; k < y.Length; k++) Assert.Equal(structureOut[k] + sparseOut[k], y[k], 1e-12);
    }

    [Fact]
    public void Counts_and_bytes_add_the_structure_and_the_sparse_matrix_in_csr()
    {
        DopedMatrix<float> doped = Doped<float>("kp", 0.9, seed: 6);
        long kept = doped.Sparse.ParameterCount;
        Assert.Equal(18, kept); // round(0.1 · 180)
        Assert.Equal(3 * 5 + 4 * 3 + kept, doped.ParameterCount);
        Assert.Equal((3 * 5 + 4 * 3) * 4 + kept * (4 + 4) + (12 + 1) * 4, doped.StorageBytes);
        Assert.Equal(["rnn.weight_hh_l0.kron_a", "rnn.weight_hh_l0.kron_b", "rnn.weight_hh_l0.doping.weight"], doped.Parameters.Select(p => p.Name));
    }

    [Fact]
    public void Mismatched_parts_and_dropouts_are_rejected()
    {
        var structure = new LowRankMatrix<float>("w", 12, 15, 2);
        Assert.Throws<ArgumentException>(() => new DopedMatrix<float>(structure, new PrunedMatrix<float>("s", 15, 12)));
        var doped = new DopedMatrix<float>(structure, new PrunedMatrix<float>("s", 12, 15));
        Assert.Throws<ArgumentException>(() => doped.SparseDropout = new CoMatrixDropout<float>(15, 0.5));
    }
}

public class CoMatrixDropoutTests
{
    [Fact]
    public void Drops_about_p_of_the_elements_and_scales_the_rest_by_one_over_one_minus_p()
    {
        var dropout = new CoMatrixDropout<float>(1000, 0.3);
        Assert.False(dropout.IsActive);
        dropout.Resample(new Xoshiro256(5), 20);
        Assert.True(dropout.IsActive);
        Assert.Equal(20 * 1000, dropout.Mask.Length);
        int dropped = 0;
        foreach (float v in dropout.Mask)
        {
            if (v == 0) dropped++;
            else Assert.Equal(1 / 0.7f, v, 1e-6f);
        }
        // 20,000 Bernoulli(0.3) draws: the standard deviation of the fraction is 0.0032.
        Assert.InRange(dropped / 20000.0, 0.285, 0.315);
    }

    [Fact]
    public void Same_seed_gives_the_same_mask_and_zero_probability_keeps_everything()
    {
        var a = new CoMatrixDropout<double>(50, 0.5);
        var b = new CoMatrixDropout<double>(50, 0.5);
        a.Resample(new Xoshiro256(9), 4);
        b.Resample(new Xoshiro256(9), 4);
        Assert.True(a.Mask.SequenceEqual(b.Mask));

        var none = new CoMatrixDropout<double>(50, 0);
        none.Resample(new Xoshiro256(9), 4);
        Assert.All(none.Mask.ToArray(), v => Assert.Equal(1.0, v));
    }

    [Fact]
    public void Inactive_dropout_leaves_values_alone_and_bad_arguments_are_rejected()
    {
        var dropout = new CoMatrixDropout<double>(3, 0.5);
        double[] values = [1, 2, 3, 4, 5, 6];
        dropout.Apply(values, 2);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], values);

        dropout.Resample(new Xoshiro256(1), 2);
        Assert.Throws<InvalidOperationException>(() => dropout.Apply(new double[9], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => dropout.Probability = 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => dropout.Probability = -0.1);
        Assert.Throws<ArgumentOutOfRangeException>(() => dropout.Probability = double.NaN);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CoMatrixDropout<double>(0, 0.5));
    }
}
