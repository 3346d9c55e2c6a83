namespace Dopant.Models;

/// <summary>
/// The architecture of a sentence model (a tagger or a classifier): an embedding of width E, L recurrent layers of
/// hidden size H (LSTM or GRU, unidirectional or bidirectional), and a decoder from the top layer's output (H, or 2H
/// when bidirectional) to <see cref="LabelCount"/> labels.
/// </summary>
/// <param name="VocabularySize">Number of words V.</param>
/// <param name="EmbeddingSize">Embedding width E.</param>
/// <param name="HiddenSize">Hidden size H of each direction of the top layer, and of every layer unless <see cref="LayerSizes"/> says otherwise.</param>
/// <param name="Layers">Number of stacked layers.</param>
/// <param name="LabelCount">Number of labels C.</param>
/// <param name="Head">Token labels (tagging) or one label per sentence (classification).</param>
public sealed record SentenceModelConfig(int VocabularySize, int EmbeddingSize, int HiddenSize, int Layers, int LabelCount, LabelHead Head)
{
    private readonly LayerSizes _layerSizes;

    /// <summary>
    /// The hidden size of each layer (per direction), bottom first, when they differ (the last is
    /// <see cref="HiddenSize"/>); empty when every layer has <see cref="HiddenSize"/>.
    /// </summary>
    public LayerSizes LayerSizes
    {
        get => _layerSizes;
        init => _layerSizes = value.AllEqual(HiddenSize) ? default : value;
    }

    /// <summary>The hidden size of each direction of layer <paramref name="layer"/>.</summary>
    public int HiddenSizeOf(int layer) => _layerSizes.IsEmpty ? HiddenSize : _layerSizes[layer];

    /// <summary>The width of layer <paramref name="layer"/>'s output: its hidden size, doubled when bidirectional.</summary>
    public int OutputSizeOf(int layer) => Bidirectional ? 2 * HiddenSizeOf(layer) : HiddenSizeOf(layer);

    /// <summary>The layers and their sizes, e.g. <c>2x128</c> or <c>256,128</c>.</summary>
    public string DescribeLayers() => _layerSizes.IsEmpty ? $"{Layers}x{HiddenSize}" : _layerSizes.ToString();

    /// <summary>The recurrent cell (default LSTM).</summary>
    public RecurrentCell Cell { get; init; } = RecurrentCell.Lstm;

    /// <summary>Whether every layer also reads each sentence backwards.</summary>
    public bool Bidirectional { get; init; }

    /// <summary>How a sequence-label head pools the outputs (ignored for token labels).</summary>
    public SentencePooling Pooling { get; init; } = SentencePooling.Final;

    /// <summary>Drop probability on the embedding and on every layer's output during training.</summary>
    public double Dropout { get; init; }

    /// <summary>The width of the top layer's output: H, or 2H when bidirectional.</summary>
    public int OutputSize => Bidirectional ? 2 * HiddenSize : HiddenSize;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (VocabularySize < 1) throw new ArgumentException($"Vocabulary size must be positive (got {VocabularySize}).");
        if (EmbeddingSize < 1) throw new ArgumentException($"Embedding size must be positive (got {EmbeddingSize}).");
        if (HiddenSize < 1) throw new ArgumentException($"Hidden size must be positive (got {HiddenSize}).");
        if (Layers < 1) throw new ArgumentException($"The model needs at least one recurrent layer (got {Layers}).");
        if (LabelCount < 2) throw new ArgumentException($"A labeling head needs at least two labels (got {LabelCount}).");
        if (!Enum.IsDefined(Cell)) throw new ArgumentException($"Unknown recurrent cell {(int)Cell}.");
        LayerSizes.Validate(Layers, HiddenSize);
        if (!Enum.IsDefined(Head)) throw new ArgumentException($"Unknown head {(int)Head}.");
        if (!Enum.IsDefined(Pooling)) throw new ArgumentException($"Unknown pooling {(int)Pooling}.");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentException($"Dropout must be in [0, 1) (got {Dropout}).");
    }
}
