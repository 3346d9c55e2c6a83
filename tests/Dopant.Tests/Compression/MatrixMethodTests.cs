using System.Text.Json;
using Dopant.Compression;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Training;

namespace Dopant.Tests.Compression;

/// <summary>Per-matrix methods (<c>--matrix-method</c>): the forms, the final sparsities, the anneal, the checkpoint's record and bad input.</summary>
public class MatrixMethodTests
{
    private static LanguageModel<float> Model()
    {
        var model = new LanguageModel<float>(new LanguageModelConfig(40, 16, 2));
        model.InitializeUniform(0.1, new Dopant.Numerics.Xoshiro256(5));
        return model;
    }

    // Doped Kronecker for the LSTM layers, doped low rank with its own share for the embedding, low rank for the decoder.
    private static readonly LstmCompression Mixed = new(CompressionMethod.Dkp, 8, 0.9)
    {
        Matrices = ".*",
        Block = BlockShape.Parse("1x1@4x8"),
        MatrixFactors = [new MatrixFactor(@"encoder\.weight|decoder\.weight", 4)],
        MatrixMethods = [new MatrixMethod(@"encoder\.weight", CompressionMethod.Dlmf, 0.5), new MatrixMethod(@"encoder\.weight|decoder\.weight", CompressionMethod.Lmf)],
    };

    [Fact]
    public void Each_matrix_takes_the_first_matching_method_its_share_and_its_factor()
    {
        Assert.Equal(new LstmCompression(CompressionMethod.Dlmf, 4, 0.5) { Block = Mixed.Block, Matrices = ".*" }, Mixed.For("encoder.weight"));
        // A method without S takes no block; the others keep the compression's share and block.
        Assert.Equal(new LstmCompression(CompressionMethod.Lmf, 4, 0.9) { Matrices = ".*" }, Mixed.For("decoder.weight"));
        Assert.Equal(new LstmCompression(CompressionMethod.Dkp, 8, 0.9) { Block = Mixed.Block, Matrices = ".*" }, Mixed.For("rnn.weight_hh_l1"));
        Assert.Equal(1 - 0.5 / 4, Mixed.FinalSparsityFor("encoder.weight"), 12);
        Assert.Equal(0, Mixed.FinalSparsityFor("decoder.weight"));
        Assert.Equal(1 - 0.9 / 8, Mixed.FinalSparsityFor("rnn.weight_ih_l0"), 12);
        Assert.Equal(new LstmCompression(CompressionMethod.Dlmf, 4, 0.5) { Block = Mixed.Block }.SpecFor(40, 16), Mixed.SpecFor("encoder.weight", 40, 16));
        Assert.Equal(WeightFormSpec.LowRank(LowRankMatrix<float>.RankFor(40, 16, 4)), Mixed.SpecFor("decoder.weight", 40, 16));
        Assert.Contains(@"/encoder\.weight/ by dlmf (doping share 0.5), /encoder\.weight|decoder\.weight/ by lmf", Mixed.Describe(share: true));
    }

    [Fact]
    public void Apply_final_gives_each_matrix_its_own_form_and_sparsity()
    {
        // Unstructured S, whose pruning reaches the exact count (balanced tiles round it per tile).
        LstmCompression mixed = Mixed with { Block = null };
        LanguageModel<float> model = Model();
        mixed.ApplyFinal(model);
        var forms = model.WeightMatrices.ToDictionary(m => m.Name, m => m.Matrix);
        var embedding = Assert.IsType<DopedMatrix<float>>(forms["encoder.weight"]);
        Assert.IsType<LowRankMatrix<float>>(embedding.Structure);
        Assert.IsType<LowRankMatrix<float>>(forms["decoder.weight"]);
        var recurrent = Assert.IsType<DopedMatrix<float>>(forms["rnn.weight_hh_l0"]);
        Assert.IsType<KroneckerMatrix<float>>(recurrent.Structure);
        foreach ((string name, IWeightMatrix<float> matrix) in model.WeightMatrices)
            foreach (PrunedMatrix<float> part in WeightForms.PrunedParts(matrix))
                Assert.Equal((long)Math.Round(mixed.FinalSparsityFor(name) * part.Mask.Length, MidpointRounding.AwayFromZero), part.PrunedCount);
    }

    [Fact]
    public void A_method_without_S_anneals_the_doped_matrices_a_rule_gives_it()
    {
        var lowRankWithDopedEmbedding = new LstmCompression(CompressionMethod.Lmf, 8)
        {
            Matrices = ".*", MatrixMethods = [new MatrixMethod(@"encoder\.weight", CompressionMethod.Dlmf, 0.5)],
        };
        Assert.Equal(0, lowRankWithDopedEmbedding.FinalSparsity);
        Assert.Equal(1 - 0.5 / 8, lowRankWithDopedEmbedding.AnnealedSparsity, 12);
        LanguageModel<float> model = Model();
        lowRankWithDopedEmbedding.Apply(model);
        var options = new TrainingOptions { FinalSparsity = lowRankWithDopedEmbedding.AnnealedSparsity, Compression = lowRankWithDopedEmbedding, PruneStartEpoch = 0, PruneEndEpoch = 1 };
        var schedule = new DopingSchedule(model, options.Doping, windowsPerEpoch: 10, _ => true);
        Assert.NotNull(schedule.Annealer);
        for (long step = 1; step <= 10; step++) schedule.AfterStep(step);
        var embedding = Assert.IsType<DopedMatrix<float>>(model.WeightMatrices.Single(m => m.Name == "encoder.weight").Matrix);
        Assert.Equal((long)Math.Round((1 - 0.5 / 8) * embedding.Sparse.Mask.Length, MidpointRounding.AwayFromZero), embedding.Sparse.PrunedCount);
    }

    [Fact]
    public void The_methods_survive_the_checkpoint_s_json()
    {
        var options = new TrainingOptions { Compression = Mixed };
        string json = JsonSerializer.Serialize(options, ModelCheckpoint.Json);
        Assert.Contains("\"matrix_methods\"", json);
        Assert.Contains("\"dlmf\"", json);
        LstmCompression read = JsonSerializer.Deserialize<TrainingOptions>(json, ModelCheckpoint.Json)!.Compression!;
        Assert.Equal(Mixed.MatrixMethods, read.MatrixMethods);
        Assert.Equal(Mixed.For("encoder.weight"), read.For("encoder.weight"));
        Assert.Equal(1 - 0.5 / 4, options.Doping.FinalSparsityOf!("encoder.weight"), 12);
    }

    [Theory]
    [InlineData("decoder.weight", "expected PATTERN=METHOD or PATTERN=METHOD:SHARE")]
    [InlineData("=dlmf", "expected PATTERN=METHOD")]
    [InlineData("decoder=svd", "unknown method 'svd'; expected one of: kp, dkp, lmf, dlmf, hmd, dhmd, prune")]
    [InlineData("decoder=dlmf:half", "the doping share 'half' is not a number")]
    [InlineData("decoder=dlmf:1", "the doping share must be in (0, 1) (got 1)")]
    [InlineData("decoder=lmf:0.5", "a doping share applies only to dkp, dlmf and dhmd, not to lmf")]
    [InlineData("(decoder=lmf", "Invalid name pattern '(decoder'")]
    public void Bad_text_is_refused_in_one_line_that_quotes_it(string text, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => MatrixMethod.Parse(text));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_method_for_a_matrix_left_uncompressed_or_a_block_no_method_takes_is_refused()
    {
        LanguageModel<float> model = Model();
        var recurrentOnly = new LstmCompression(CompressionMethod.Dkp, 8) { MatrixMethods = [new MatrixMethod(@"decoder\.weight", CompressionMethod.Lmf)] };
        var e = Assert.Throws<ArgumentException>(() => recurrentOnly.ApplyForms(model));
        Assert.Contains(@"--matrix-method 'decoder\.weight=lmf' selects none of the compressed matrices (rnn.weight_ih_l0", e.Message);
        Assert.All(model.WeightMatrices, m => Assert.IsType<DenseMatrix<float>>(m.Matrix));
        var blocksNowhere = new LstmCompression(CompressionMethod.Lmf, 8) { Block = BlockShape.Parse("16x1"), MatrixMethods = [new MatrixMethod("rnn.*", CompressionMethod.Kp)] };
        Assert.Contains("--block applies only to prune and the doped methods, not to lmf, kp", Assert.Throws<ArgumentException>(blocksNowhere.Validate).Message);
        Assert.True((blocksNowhere with { MatrixMethods = [new MatrixMethod("rnn.*", CompressionMethod.Prune)] }).TakesBlocks);
    }
}
