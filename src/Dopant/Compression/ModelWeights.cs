using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Compression;

/// <summary>The dense weight matrices of a model as <see cref="CompressibleWeight"/> views of its parameters.</summary>
public static class ModelWeights
{
    /// <summary>
    /// Every weight matrix in state-dict order: <c>encoder.weight</c>, every layer's <c>rnn.weight_ih_l{i}</c> and
    /// <c>rnn.weight_hh_l{i}</c> (and their <c>_reverse</c> twins), and <c>decoder.weight</c> (left out when tied to
    /// the encoder). Projecting them changes the model.
    /// </summary>
    /// <exception cref="ArgumentException">A matrix is not dense (the model is already compressed) or a layer's matrices are combined.</exception>
    public static IReadOnlyList<CompressibleWeight> Of(ICompressibleModel<float> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var weights = new List<CompressibleWeight>();
        foreach ((string name, IWeightMatrix<float> matrix) in model.WeightMatrices)
        {
            WeightKind kind = WeightKinds.Of(name)
                ?? throw new ArgumentException($"'{name}' is a combined [W_ih | W_hh] matrix; schemes work on separate dense matrices.");
            weights.Add(matrix is DenseMatrix<float> dense
                ? new CompressibleWeight(name, kind, matrix.Rows, matrix.Columns, dense.Weight.Value, dense.Weight.Gradient)
                : throw new ArgumentException($"'{name}' is already compressed ({WeightForms.Describe(matrix).Kind}); a scheme starts from a dense model."));
        }
        return weights;
    }
}
