using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;

namespace Dopant.Tests.Models;

/// <summary>The embedding and the decoder in compressed forms: the whole model's backward against finite differences.</summary>
public class CompressedEmbeddingAndDecoderTests
{
    public static TheoryData<string, string, bool> Cases() => new()
    {
        { """{"kind":"low_rank","rank":2}""", """{"kind":"doped","structure":{"kind":"low_rank","rank":2}}""", false },
        { """{"kind":"kronecker","shape":"3x2,3x3","rank":1}""", """{"kind":"pruned"}""", false },
        { """{"kind":"doped","structure":{"kind":"low_rank","rank":2}}""", "", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_matches_finite_differences_with_compressed_embedding_and_decoder(string embedding, string decoder, bool tied)
    {
        int vocabulary = 9, hidden = 6, steps = 3, batch = 2;
        var model = new LanguageModel<double>(new LanguageModelConfig(vocabulary, hidden, 2, 0.2, tied) { Cell = RecurrentCell.Gru }) { Training = true };
        model.InitializeUniform(0.5, new Xoshiro256(3));
        int replaced = model.Compress(name => name switch
        {
            LanguageModel<double>.EncoderWeightName => WeightFormSpec.Parse(embedding),
            LanguageModel<double>.DecoderWeightName => WeightFormSpec.Parse(decoder),
            _ => null,
        });
        Assert.Equal(tied ? 1 : 2, replaced);
        if (tied) Assert.Same(model.Encoder.Table, model.Decoder.Weight);
        Assert.Throws<InvalidOperationException>(() => model.Encoder.Weight);
        var random = new Random(7);
        foreach (Parameter<double> p in model.Parameters) FiniteDifferences.Fill(random, p.Value, 0.5);
        foreach (PrunedMatrix<double> part in model.WeightMatrices.SelectMany(m => WeightForms.PrunedParts(m.Matrix))) part.PruneToSparsity(0.5);
        int[] inputs = Enumerable.Range(0, steps * batch).Select(_ => random.Next(vocabulary)).ToArray();
        int[] targets = Enumerable.Range(0, steps * batch).Select(_ => random.Next(vocabulary)).ToArray();

        double Loss()
        {
            model.Random = new Xoshiro256(42);
            return model.Forward(inputs, targets, steps, batch, model.CreateState(batch)) / (steps * batch);
        }

        Loss();
        model.ZeroGradients();
        model.Backward(1.0 / (steps * batch));
        foreach (Parameter<double> p in model.Parameters)
            FiniteDifferences.Check(p.Name, p.Value, (double[])p.Gradient.Clone(), Loss, maxChecks: 80);
        CompressionReport report = model.CompressionReport();
        Assert.True(report.IsCompressed);
        Assert.Equal(report.DenseLstmParameters, report.LstmParameters);
        Assert.Equal(report.LstmParameters + model.Encoder.Table.ParameterCount + (tied ? 0 : model.Decoder.Weight.ParameterCount) + vocabulary,
            report.ModelParameters);
        Assert.Equal(report.DenseLstmParameters + vocabulary * 6 + (tied ? 0 : vocabulary * 6) + vocabulary, report.DenseModelParameters);
    }

    [Fact]
    public void Replacing_an_unknown_matrix_or_one_of_another_shape_is_refused()
    {
        var model = new LanguageModel<double>(new LanguageModelConfig(9, 6, 1));
        Assert.Contains("no weight matrix 'rnn.weight_hh_l3'",
            Assert.Throws<ArgumentException>(() => model.ReplaceMatrix("rnn.weight_hh_l3", new DenseMatrix<double>("x", 24, 6))).Message);
        Assert.Throws<ArgumentException>(() => model.ReplaceMatrix(LanguageModel<double>.EncoderWeightName, new DenseMatrix<double>("x", 9, 5)));
        var tied = new LanguageModel<double>(new LanguageModelConfig(9, 6, 1, 0, true));
        Assert.Throws<ArgumentException>(() => tied.ReplaceMatrix(LanguageModel<double>.DecoderWeightName, new DenseMatrix<double>("x", 9, 6)));
    }
}
