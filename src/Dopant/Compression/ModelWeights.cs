using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Compression;

/// <summary>The dense weight matrices of a language model as <see cref="CompressibleWeight"/> views of its parameters.</summary>
public static class ModelWeights
{
    /// <summary>
    /// <c>encoder.weight</c>, every layer's <c>rnn.weight_ih_l{i}</c> and <c>rnn.weight_hh_l{i}</c>, and
    /// <c>decoder.weight</c> (left out when tied to the encoder). Projecting them changes the model.
    /// </summary>
    /// <exception cref="ArgumentException">An LSTM matrix is not dense (the model is already compressed) or a layer's matrices are combined.</exception>
    public static IReadOnlyList<CompressibleWeight> Of(LanguageModel<float> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var weights = new List<CompressibleWeight> { Dense(model.Encoder.Table, LanguageModel<float>.EncoderWeightName, WeightKind.Embedding) };
        foreach (IRecurrentLayer<float> layer in model.Layers)
        {
            if (layer.CombinedWeights is not null)
                throw new ArgumentException($"Layer {layer.Index} has a combined [W_ih | W_hh] matrix; schemes work on separate dense matrices.");
            weights.Add(Dense(layer.InputWeights, layer.InputWeightsName, WeightKind.LstmInput));
            weights.Add(Dense(layer.RecurrentWeights, layer.RecurrentWeightsName, WeightKind.LstmRecurrent));
        }
        if (!model.Config.TiedWeights) weights.Add(Dense(model.Decoder.Weight, "decoder.weight", WeightKind.Decoder));
        return weights;
    }

    private static CompressibleWeight Dense(IWeightMatrix<float> matrix, string name, WeightKind kind) => matrix is DenseMatrix<float> dense
        ? View(dense.Weight, kind)
        : throw new ArgumentException($"'{name}' is already compressed ({WeightForms.Describe(matrix).Kind}); a scheme starts from a dense model.");

    private static CompressibleWeight View(Parameter<float> p, WeightKind kind) => new(p.Name, kind, p.Shape[0], p.Shape[1], p.Value, p.Gradient);
}
