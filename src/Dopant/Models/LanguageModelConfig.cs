namespace Dopant.Models;

/// <summary>
/// The architecture of a word-level recurrent language model: an embedding of width E, a stack of LSTM or GRU layers
/// (of hidden size H, or of a size each), and a decoder to the vocabulary from the top layer (PyTorch's
/// examples/word_language_model <c>RNNModel</c>).
/// </summary>
/// <param name="VocabularySize">Number of words V.</param>
/// <param name="HiddenSize">Hidden size H of the top layer, and of every layer unless <see cref="LayerSizes"/> says otherwise.</param>
/// <param name="Layers">Number of stacked recurrent layers.</param>
/// <param name="Dropout">Drop probability on non-recurrent connections (Zaremba et al. 2014).</param>
/// <param name="TiedWeights">Whether the decoder shares the embedding's weights (needs E = H).</param>
public sealed record LanguageModelConfig(int VocabularySize, int HiddenSize, int Layers, double Dropout = 0, bool TiedWeights = false)
{
    private readonly int _embeddingSize;
    private readonly LayerSizes _layerSizes;

    /// <summary>The recurrent cell of every layer (default LSTM).</summary>
    public RecurrentCell Cell { get; init; } = RecurrentCell.Lstm;

    /// <summary>The embedding width E; 0 (the default) means E = H.</summary>
    public int EmbeddingSize
    {
        get => _embeddingSize == 0 ? HiddenSize : _embeddingSize;
        init => _embeddingSize = value == HiddenSize ? 0 : value;
    }

    /// <summary>
    /// The hidden size of each layer, bottom first, when they differ (the last is <see cref="HiddenSize"/>); empty when
    /// every layer has <see cref="HiddenSize"/>.
    /// </summary>
    public LayerSizes LayerSizes
    {
        get => _layerSizes;
        init => _layerSizes = value.AllEqual(HiddenSize) ? default : value;
    }

    /// <summary>The hidden size of layer <paramref name="layer"/>.</summary>
    public int HiddenSizeOf(int layer) => _layerSizes.IsEmpty ? HiddenSize : _layerSizes[layer];

    /// <summary>Gate rows per hidden unit: 4 for an LSTM, 3 for a GRU.</summary>
    public int GateCount => Cell.GateCount();

    /// <summary>The input width of layer <paramref name="layer"/>: E for the first, the hidden size of the layer below above it.</summary>
    public int InputSize(int layer) => layer == 0 ? EmbeddingSize : HiddenSizeOf(layer - 1);

    /// <summary>
    /// Floating-point operations of dense training per target token: the recurrent and decoder products forward and
    /// both backward products (6 per weight), the embedding and the elementwise work left out.
    /// </summary>
    public double DenseTrainingFlopsPerToken()
    {
        double weights = (double)VocabularySize * HiddenSizeOf(Layers - 1);
        for (int l = 0; l < Layers; l++) weights += (double)GateCount * HiddenSizeOf(l) * (InputSize(l) + HiddenSizeOf(l));
        return 6 * weights;
    }

    /// <summary>The layers and their sizes, e.g. <c>2x650</c> or <c>650,400</c>.</summary>
    public string DescribeLayers() => _layerSizes.IsEmpty ? $"{Layers}x{HiddenSize}" : _layerSizes.ToString();

    /// <summary>A short description, e.g. <c>2x650 LSTM, embedding 650</c>.</summary>
    public string Describe() =>
        $"{DescribeLayers()} {Cell.Name().ToUpperInvariant()}, embedding {EmbeddingSize}, vocabulary {VocabularySize}{(TiedWeights ? ", tied" : "")}";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (VocabularySize < 1) throw new ArgumentException($"Vocabulary size must be positive (got {VocabularySize}).");
        if (HiddenSize < 1) throw new ArgumentException($"Hidden size must be positive (got {HiddenSize}).");
        if (EmbeddingSize < 1) throw new ArgumentException($"Embedding size must be positive (got {EmbeddingSize}).");
        if (Layers < 1) throw new ArgumentException($"The model needs at least one recurrent layer (got {Layers}).");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentException($"Dropout must be in [0, 1) (got {Dropout}).");
        if (!Enum.IsDefined(Cell)) throw new ArgumentException($"Unknown recurrent cell {(int)Cell}.");
        LayerSizes.Validate(Layers, HiddenSize);
        if (TiedWeights && EmbeddingSize != HiddenSize)
            throw new ArgumentException($"A tied decoder needs the embedding width to equal the hidden size (embedding {EmbeddingSize}, hidden {HiddenSize}).");
    }
}
