using Dopant.Compression;
using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Tests.Compression;

public class LstmCompressionTests
{
    // The stored parameters of one m×n matrix in the method's form once its pruned parts reach the final sparsity.
    private static long FinalParameters(LstmCompression compression, int rows, int columns)
    {
        IWeightMatrix<float> form = WeightForms.Create<float>(compression.SpecFor(rows, columns), "rnn.weight_hh_l0", rows, columns);
        foreach (PrunedMatrix<float> pruned in WeightForms.PrunedParts(form)) pruned.PruneToSparsity(compression.FinalSparsity);
        return form.ParameterCount;
    }

    [Theory]
    [InlineData(800, 200)]
    [InlineData(2600, 650)]
    public void Every_method_meets_the_target_factor_without_wasting_much_of_the_budget(int rows, int columns)
    {
        foreach (string method in CompressionMethods.All)
            foreach (double factor in new[] { 10.0, 25.0 })
            {
                double achieved = (double)rows * columns / FinalParameters(new LstmCompression(CompressionMethods.Parse(method), factor), rows, columns);
                Assert.True(achieved >= factor * 0.999, $"{method} at {factor}x on {rows}x{columns}: {achieved:F2}x, short of the target");
                Assert.True(achieved <= factor * 1.6, $"{method} at {factor}x on {rows}x{columns}: {achieved:F2}x leaves most of the budget unused");
            }
    }

    [Fact]
    public void Doped_methods_split_the_budget_between_the_structure_and_s()
    {
        var dkp = new LstmCompression(CompressionMethod.Dkp, 25);
        Assert.True(dkp.IsDoped);
        Assert.Equal(1 - 0.25 / 25, dkp.FinalSparsity, 12);
        Assert.Equal(WeightFormSpec.DopedKind, dkp.SpecFor(800, 200).Kind);
        Assert.Equal(WeightFormSpec.KroneckerKind, dkp.SpecFor(800, 200).Structure!.Kind);
        Assert.Equal(1 - 1 / 25.0, new LstmCompression(CompressionMethod.Prune, 25).FinalSparsity, 12);
        Assert.Equal(0, new LstmCompression(CompressionMethod.Lmf, 25).FinalSparsity);
    }

    [Theory]
    [InlineData(3, 800, 200)]
    [InlineData(4, 800, 200)]
    [InlineData(3, 2600, 650)]
    public void Kronecker_factors_above_two_give_chains_that_meet_the_target(int factors, int rows, int columns)
    {
        foreach (string method in new[] { "kp", "dkp" })
        {
            var compression = new LstmCompression(CompressionMethods.Parse(method), 25, KroneckerFactors: factors);
            WeightFormSpec spec = compression.SpecFor(rows, columns);
            WeightFormSpec structure = compression.IsDoped ? spec.Structure! : spec;
            Assert.Equal(WeightFormSpec.KroneckerChainKind, structure.Kind);
            var shape = KroneckerChainShape.Parse(structure.Shape!, rows, columns);
            Assert.Equal(factors, shape.Count);
            Assert.True(structure.Rank >= 1 && structure.Rank <= shape.MaxNearestRank, $"rank {structure.Rank}");
            double achieved = (double)rows * columns / FinalParameters(compression, rows, columns);
            Assert.True(achieved >= 25 * 0.999, $"{method} with {factors} factors on {rows}x{columns}: {achieved:F2}x");
        }
        Assert.Equal(WeightFormSpec.KroneckerKind, new LstmCompression(CompressionMethod.Kp, 25).SpecFor(rows, columns).Kind);
    }

    [Fact]
    public void Apply_with_three_kronecker_factors_fits_chains_to_the_dense_values()
    {
        var model = new LanguageModel<float>(new LanguageModelConfig(30, 12, 2));
        model.InitializeUniform(0.1, new Dopant.Numerics.Xoshiro256(3));
        float[] denseHh = model.Layers[1].RecurrentWeights.ToDense();
        new LstmCompression(CompressionMethod.Dkp, 4, KroneckerFactors: 3).Apply(model);
        foreach (LstmLayer<float> layer in model.Layers)
            foreach (IWeightMatrix<float> matrix in new[] { layer.InputWeights, layer.RecurrentWeights })
            {
                var doped = Assert.IsType<DopedMatrix<float>>(matrix);
                Assert.Equal(3, Assert.IsType<KroneckerChainMatrix<float>>(doped.Structure).Shape.Count);
            }
        float[] doped1 = model.Layers[1].RecurrentWeights.ToDense();
        for (int k = 0; k < doped1.Length; k++) Assert.Equal(denseHh[k], doped1[k], 1e-5f);

        var plain = new LanguageModel<float>(new LanguageModelConfig(30, 12, 2));
        plain.InitializeUniform(0.1, new Dopant.Numerics.Xoshiro256(3));
        new LstmCompression(CompressionMethod.Kp, 4, KroneckerFactors: 3).Apply(plain);
        Assert.IsType<KroneckerChainMatrix<float>>(plain.Layers[0].InputWeights);
    }

    [Fact]
    public void Blocks_reach_the_doping_and_pruning_parts_and_apply_final_prunes_whole_blocks()
    {
        var model = new LanguageModel<float>(new LanguageModelConfig(30, 16, 2));
        model.InitializeUniform(0.1, new Dopant.Numerics.Xoshiro256(4));
        var dkp = new LstmCompression(CompressionMethod.Dkp, 8, 0.9) { Block = BlockShape.Parse("16x1") };
        dkp.ApplyFinal(model);
        var doped = Assert.IsType<DopedMatrix<float>>(model.Layers[0].RecurrentWeights);
        Assert.Equal(new BlockShape(16, 1), doped.Sparse.Block);
        Assert.Equal(dkp.FinalSparsity, doped.Sparse.Sparsity, 0.02);
        // Whole 16×1 blocks: S keeps at most its share of the budget, 0.9/8 of 64 × 16, in multiples of 16 entries.
        Assert.True(doped.Sparse.ParameterCount <= 0.9 / 8 * 64 * 16 && doped.Sparse.ParameterCount % 16 == 0, $"S keeps {doped.Sparse.ParameterCount}");
        Assert.Equal("16x1", WeightForms.Describe(doped).Block);

        Assert.Equal(WeightFormSpec.PrunedInBlocks(new BlockShape(4, 4)), new LstmCompression(CompressionMethod.Prune, 10) { Block = BlockShape.Parse("4x4") }.SpecFor(64, 16));
        Assert.Contains("--block applies only to prune and the doped methods", Assert.Throws<ArgumentException>(() => new LstmCompression(CompressionMethod.Kp, 10) { Block = BlockShape.Parse("4x4") }.Validate()).Message);
        Assert.Contains("RxC", Assert.Throws<FormatException>(() => BlockShape.Parse("4")).Message);
    }

    [Fact]
    public void An_n_of_m_pattern_reaches_the_doping_part_and_its_form_and_a_group_that_would_keep_nothing_is_refused()
    {
        var model = new LanguageModel<float>(new LanguageModelConfig(30, 16, 2));
        model.InitializeUniform(0.1, new Dopant.Numerics.Xoshiro256(5));
        // 25x with S holding 90% of the budget: S ends 96.4% sparse, one block kept in every 28.
        var dkp = new LstmCompression(CompressionMethod.Dkp, 25, 0.9) { Block = BlockShape.Parse("1x1/28") };
        dkp.ApplyFinal(model);
        var doped = Assert.IsType<DopedMatrix<float>>(model.Layers[1].InputWeights);
        Assert.Equal(new BlockShape(1, 1, 28), doped.Sparse.Block);
        Assert.Equal("1x1/28", WeightForms.Describe(doped).Block);
        // 64 × 16: every row is one group of 16 (shorter than 28), which keeps min(1, 16) = 1.
        Assert.Equal(64, doped.Sparse.ParameterCount);

        string message = Assert.Throws<ArgumentException>(() => new LstmCompression(CompressionMethod.Dkp, 25, 0.9) { Block = BlockShape.Parse("16x1/8") }.Validate()).Message;
        Assert.Contains("keeps none", message);
        Assert.Contains("at least 14 blocks", message);
        new LstmCompression(CompressionMethod.Dkp, 25, 0.9) { Block = BlockShape.Parse("16x1/14") }.Validate();
        Assert.Contains("N:M", Assert.Throws<FormatException>(() => BlockShape.Parse("4x4/0")).Message);
    }

    [Fact]
    public void Apply_compresses_every_lstm_matrix_from_its_dense_values()
    {
        var model = new LanguageModel<float>(new LanguageModelConfig(30, 12, 2));
        model.InitializeUniform(0.1, new Dopant.Numerics.Xoshiro256(2));
        float[] denseHh = model.Layers[1].RecurrentWeights.ToDense();
        CompressionReport report = new LstmCompression(CompressionMethod.Dlmf, 4).Apply(model);
        foreach (LstmLayer<float> layer in model.Layers)
        {
            Assert.IsType<DopedMatrix<float>>(layer.InputWeights);
            Assert.IsType<DopedMatrix<float>>(layer.RecurrentWeights);
        }
        // S starts as the residual, so the doped matrix equals the dense one it came from.
        float[] doped = model.Layers[1].RecurrentWeights.ToDense();
        for (int k = 0; k < doped.Length; k++) Assert.Equal(denseHh[k], doped[k], 1e-5f);
        Assert.True(report.LstmParameters > report.DenseLstmParameters, "S is still dense before the anneal");
    }

    [Fact]
    public void Concatenated_compression_gives_each_layer_one_matrix_that_starts_at_w_ih_beside_w_hh()
    {
        var model = new LanguageModel<float>(new LanguageModelConfig(30, 12, 2));
        model.InitializeUniform(0.1, new Dopant.Numerics.Xoshiro256(3));
        float[][] joined = [.. model.Layers.Cast<LstmLayer<float>>().Select(l => l.CombinedDense())];
        CompressionReport report = new LstmCompression(CompressionMethod.Kp, 8) { Concatenated = true }.Apply(model);
        for (int l = 0; l < model.Layers.Length; l++)
        {
            var layer = (LstmLayer<float>)model.Layers[l];
            var kron = Assert.IsType<KroneckerMatrix<float>>(layer.CombinedWeights);
            Assert.Equal((48, 24), (kron.Rows, kron.Columns));
            Assert.True(kron.ParameterCount <= 48 * 24 / 8, $"{kron.ParameterCount} parameters miss the 8x target");
            Assert.Equal(WeightForms.FromDense<float>(WeightFormSpec.Kronecker(kron.Shape, kron.Rank), "w", joined[l], 48, 24).ToDense(), kron.ToDense());
        }
        Assert.Equal(model.Layers.Sum(l => l.CombinedWeights!.ParameterCount + 96), report.LstmParameters);
    }

    [Theory]
    [InlineData("zip", 4, 0.25, "Unknown compression method")]
    [InlineData("kp", 1, 0.25, "--factor")]
    [InlineData("kp", double.NaN, 0.25, "--factor")]
    [InlineData("dkp", 10, 1.0, "--doping-share")]
    public void Bad_settings_name_the_option(string method, double factor, double share, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => new LstmCompression(CompressionMethods.Parse(method), factor, share).Validate());
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("kp", 1, "--kron-factors must be 2, 3 or 4 (got 1)")]
    [InlineData("dkp", 5, "--kron-factors must be 2, 3 or 4 (got 5)")]
    [InlineData("lmf", 3, "--kron-factors applies only to kp and dkp")]
    public void Bad_kronecker_factors_are_rejected_in_one_line(string method, int factors, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => new LstmCompression(CompressionMethods.Parse(method), 10, KroneckerFactors: factors).Validate());
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
