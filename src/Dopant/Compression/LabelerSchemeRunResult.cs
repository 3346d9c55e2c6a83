using Dopant.Training;

namespace Dopant.Compression;

/// <summary>What a tagger's or classifier's scheme compression run produced.</summary>
/// <param name="Valid">The final (fine-tuned, quantized) model's score on the validation sentences.</param>
/// <param name="Test">Its score on the test sentences.</param>
/// <param name="History">The L-C iterations, the direct compression first.</param>
/// <param name="BestIteration">The L-C iteration whose compressed weights were kept.</param>
/// <param name="Storage">Every weight matrix's storage, dense and compressed.</param>
/// <param name="DenseBytes">Bytes of the whole model stored dense in fp32 (biases included).</param>
/// <param name="CompressedBytes">Bytes of the whole compressed model (biases in fp32).</param>
public sealed record LabelerSchemeRunResult(LabelingScore Valid, LabelingScore Test, IReadOnlyList<LearningCompressionIteration> History,
    int BestIteration, IReadOnlyList<(string Name, StorageEstimate Dense, StorageEstimate Compressed)> Storage, long DenseBytes, long CompressedBytes)
{
    /// <summary>Dense bytes over compressed bytes, for the whole model.</summary>
    public double ByteFactor => (double)DenseBytes / CompressedBytes;
}
