using System.Text.Json;
using Dopant.Compression;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Training;

namespace Dopant.Tests.Compression;

/// <summary>Per-matrix factors (<c>--matrix-factor</c>): the forms, the final sparsities, the checkpoint's record and bad input.</summary>
public class MatrixFactorTests
{
    private static LanguageModel<float> Model()
    {
        var model = new LanguageModel<float>(new LanguageModelConfig(40, 16, 2));
        model.InitializeUniform(0.1, new Dopant.Numerics.Xoshiro256(5));
        return model;
    }

    private static readonly LstmCompression WholeModel = new(CompressionMethod.Dkp, 8, 0.5)
    {
        Matrices = ".*",
        MatrixFactors = [new MatrixFactor(@"encoder\.weight|decoder\.weight", 2), new MatrixFactor(@"decoder\.weight", 16)],
    };

    [Fact]
    public void The_first_matching_factor_wins_and_the_rest_take_the_compression_s_factor()
    {
        Assert.Equal(@"dkp at 8x, /encoder\.weight|decoder\.weight/ at 2x, /decoder\.weight/ at 16x, doping share 0.5", WholeModel.Describe(share: true));
        Assert.Equal(2, WholeModel.FactorFor("encoder.weight"));
        Assert.Equal(2, WholeModel.FactorFor("decoder.weight"));
        Assert.Equal(8, WholeModel.FactorFor("rnn.weight_hh_l1"));
        Assert.Equal(1 - 0.5 / 2, WholeModel.FinalSparsityFor("decoder.weight"), 12);
        Assert.Equal(1 - 0.5 / 8, WholeModel.FinalSparsityFor("rnn.weight_ih_l0"), 12);
        Assert.Equal(WholeModel.FinalSparsity, WholeModel.FinalSparsityFor("rnn.weight_ih_l0"));
        Assert.Equal(new LstmCompression(CompressionMethod.Dkp, 2, 0.5).SpecFor(40, 16), WholeModel.SpecFor("decoder.weight", 40, 16));
        Assert.Equal(new LstmCompression(CompressionMethod.Dkp, 8, 0.5).SpecFor(64, 16), WholeModel.SpecFor("rnn.weight_hh_l0", 64, 16));
    }

    [Fact]
    public void Apply_final_gives_each_matrix_its_own_budget()
    {
        LanguageModel<float> model = Model();
        WholeModel.ApplyFinal(model);
        foreach ((string name, IWeightMatrix<float> matrix) in model.WeightMatrices)
        {
            double factor = (double)matrix.Rows * matrix.Columns / matrix.ParameterCount;
            double target = WholeModel.FactorFor(name);
            Assert.True(factor >= 0.999 * target && factor <= 1.8 * target, $"{name}: {factor:F2}x against the target {target}x");
            foreach (PrunedMatrix<float> part in WeightForms.PrunedParts(matrix))
                Assert.Equal((long)Math.Round(WholeModel.FinalSparsityFor(name) * part.Mask.Length, MidpointRounding.AwayFromZero), part.PrunedCount);
        }
    }

    [Fact]
    public void The_factors_survive_the_checkpoint_s_json()
    {
        var options = new TrainingOptions { Compression = WholeModel };
        string json = JsonSerializer.Serialize(options, ModelCheckpoint.Json);
        Assert.Contains("\"matrix_factors\"", json);
        LstmCompression read = JsonSerializer.Deserialize<TrainingOptions>(json, ModelCheckpoint.Json)!.Compression!;
        Assert.Equal(WholeModel.MatrixFactors, read.MatrixFactors);
        Assert.Equal(2, read.FactorFor("encoder.weight"));
        Assert.Equal(1 - 0.5 / 2, options.Doping.FinalSparsityOf!("decoder.weight"), 12);
        Assert.Null(new TrainingOptions { Compression = WholeModel with { MatrixFactors = null } }.Doping.FinalSparsityOf);
    }

    [Theory]
    [InlineData("decoder.weight", "expected PATTERN=FACTOR")]
    [InlineData("=5", "expected PATTERN=FACTOR")]
    [InlineData("decoder=five", "the factor 'five' is not a number")]
    [InlineData("decoder=1", "the factor must be greater than 1 (got 1)")]
    [InlineData("decoder=NaN", "the factor must be greater than 1 (got NaN)")]
    [InlineData("(decoder=4", "Invalid name pattern '(decoder'")]
    public void Bad_text_is_refused_in_one_line_that_quotes_it(string text, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => MatrixFactor.Parse(text));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_factor_for_a_matrix_left_uncompressed_is_refused_before_anything_changes()
    {
        LanguageModel<float> model = Model();
        var recurrentOnly = new LstmCompression(CompressionMethod.Dkp, 8) { MatrixFactors = [new MatrixFactor(@"decoder\.weight", 2)] };
        var e = Assert.Throws<ArgumentException>(() => recurrentOnly.ApplyForms(model));
        Assert.Contains(@"--matrix-factor 'decoder\.weight=2' selects none of the compressed matrices (rnn.weight_ih_l0", e.Message);
        Assert.All(model.WeightMatrices, m => Assert.IsType<DenseMatrix<float>>(m.Matrix));
        Assert.Throws<ArgumentException>(() => recurrentOnly.CheckFactorFits(model));
    }
}
