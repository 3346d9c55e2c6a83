using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Inference;

/// <summary>
/// The embedding and the recurrent layers of a streaming model, one token at a time with no allocation: the part a
/// language model and a unidirectional tagger or classifier share (their heads differ).
/// </summary>
internal sealed class StepStack
{
    private readonly IEmbeddingRows _embedding;
    private readonly IStepLayer[] _layers;
    private readonly float[] _embedded;

    /// <summary>Copies <paramref name="embedding"/> and <paramref name="layers"/> (dense matrices stored at <paramref name="precision"/>).</summary>
    public StepStack(Embedding<float> embedding, IEnumerable<IRecurrentLayer<float>> layers, WeightPrecision precision)
    {
        _embedding = StepLayers.Embedding(embedding, precision);
        _layers = [.. layers.Select(l => StepLayers.From(l, precision))];
        _embedded = new float[embedding.Dimension];
    }

    /// <summary>The vocabulary size V.</summary>
    public int VocabularySize => _embedding.Rows;

    /// <summary>The top layer's h after the last token.</summary>
    public float[] Hidden => _layers[^1].Hidden;

    /// <summary>Bytes of weights one <see cref="Advance"/> reads: the layers' and one embedding row.</summary>
    public long WeightBytes => _layers.Sum(l => l.WeightBytes) + _embedding.RowBytes;

    /// <summary>Bytes of every weight held: the layers' and the whole embedding.</summary>
    public long ModelWeightBytes => _layers.Sum(l => l.WeightBytes) + _embedding.TableBytes;

    /// <summary>Every state back to zero.</summary>
    public void Reset()
    {
        foreach (IStepLayer layer in _layers) layer.Reset();
    }

    /// <summary>Feeds one token through the embedding and the layers.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The token is not in [0, V).</exception>
    public void Advance(int token)
    {
        if ((uint)token >= (uint)VocabularySize)
            throw new ArgumentOutOfRangeException(nameof(token), token, $"Token ids are in [0, {VocabularySize}).");
        _embedding.CopyRow(token, _embedded);
        ReadOnlySpan<float> x = _embedded;
        foreach (IStepLayer layer in _layers)
        {
            layer.Step(x);
            x = layer.Hidden;
        }
    }
}
