using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Inference;

/// <summary>The streaming runtime's pieces built from a training model's: recurrent layers and the embedding.</summary>
internal static class StepLayers
{
    /// <summary>The step layer of a recurrent layer, its weights copied (dense ones stored at <paramref name="precision"/>).</summary>
    public static IStepLayer From(IRecurrentLayer<float> layer, WeightPrecision precision) => layer switch
    {
        LstmLayer<float> lstm => new LstmStepLayer(lstm, precision),
        GruLayer<float> gru => new GruStepLayer(gru, precision),
        _ => throw new NotSupportedException($"The streaming runtime has no kernel for {layer.GetType().Name}."),
    };

    /// <summary>
    /// The rows of an embedding: a dense table at <paramref name="precision"/>; at int8 a pruned or doped table's sparse
    /// entries in 8 bits; else a copy of its compressed form read row by row.
    /// </summary>
    public static IEmbeddingRows Embedding(Embedding<float> embedding, WeightPrecision precision) => embedding.Table switch
    {
        DenseMatrix<float> table => new EmbeddingTable(table.Weight.Value, embedding.VocabularySize, embedding.Dimension, precision),
        { } form when precision == WeightPrecision.Int8 && QuantizedSparseEmbeddingRows.Supports(form) =>
            new QuantizedSparseEmbeddingRows(form, LanguageModel<float>.EncoderWeightName),
        { } form => new FormEmbeddingRows(form, LanguageModel<float>.EncoderWeightName),
    };
}
