using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;

namespace Dopant.Tests.Models;

/// <summary><see cref="LanguageModel{T}.WithTiedWeights"/>: an untied dense model tied, starting from its decoder.</summary>
public class TiedWeightsTests
{
    private static LanguageModel<double> Untied()
    {
        var model = new LanguageModel<double>(new LanguageModelConfig(11, 6, 2));
        model.InitializeUniform(0.5, new Xoshiro256(4));
        return model;
    }

    [Fact]
    public void The_tied_copy_shares_the_decoders_weights_and_keeps_every_other_tensor()
    {
        LanguageModel<double> untied = Untied();
        LanguageModel<double> tied = untied.WithTiedWeights();
        Assert.True(tied.Config.TiedWeights);
        Assert.Same(tied.Encoder.Table, tied.Decoder.Weight);
        Assert.Equal(((DenseMatrix<double>)untied.Decoder.Weight).Weight.Value, ((DenseMatrix<double>)tied.Encoder.Table).Weight.Value);
        Dictionary<string, Parameter<double>> before = untied.Parameters.ToDictionary(p => p.Name);
        Assert.Equal(before.Count - 1, tied.Parameters.Count);
        foreach (Parameter<double> p in tied.Parameters.Where(p => p.Name != LanguageModel<double>.EncoderWeightName))
            Assert.Equal(before[p.Name].Value, p.Value);
        ((DenseMatrix<double>)tied.Encoder.Table).Weight.Value[0] += 1;  // a copy: the untied model is left as it was
        Assert.NotEqual(((DenseMatrix<double>)untied.Decoder.Weight).Weight.Value[0], ((DenseMatrix<double>)tied.Encoder.Table).Weight.Value[0]);
    }

    [Fact]
    public void A_tied_or_compressed_model_is_refused()
    {
        LanguageModel<double> tied = Untied().WithTiedWeights();
        Assert.Contains("already tied", Assert.Throws<InvalidOperationException>(() => tied.WithTiedWeights()).Message);
        LanguageModel<double> compressed = Untied();
        compressed.Compress(name => name == "rnn.weight_hh_l0" ? WeightFormSpec.Parse("""{"kind":"low_rank","rank":2}""") : null);
        Assert.Contains("Only a dense model", Assert.Throws<InvalidOperationException>(() => compressed.WithTiedWeights()).Message);
    }
}
