namespace Dopant.Models;

/// <summary>
/// The architecture of a word-level recurrent language model: an embedding of width E, a stack of LSTM or GRU layers
/// of hidden size H, and a decoder to the vocabulary (PyTorch's examples/word_language_model <c>RNNModel</c>).
/// </summary>
/// <param name="VocabularySize">Number of words V.</param>
/// <param name="HiddenSize">Hidden size H of every recurrent layer.</param>
/// <param name="Layers">Number of stacked recurrent layers.</param>
/// <param name="Dropout">Drop probability on non-recurrent connections (Zaremba et al. 2014).</param>
/// <param name="TiedWeights">Whether the decoder shares the embedding's weights (needs E = H).</param>
public sealed record LanguageModelConfig(int VocabularySize, int HiddenSize, int Layers, double Dropout = 0, bool TiedWeights = false)
{
    private readonly int _embeddingSize;

    /// <summary>The recurrent cell of every layer (default LSTM).</summary>
    public RecurrentCell Cell { get; init; } = RecurrentCell.Lstm;

    /// <summary>The embedding width E; 0 (the default) means E = H.</summary>
    public int EmbeddingSize
    {
        get => _embeddingSize == 0 ? HiddenSize : _embeddingSize;
        init => _embeddingSize = value == HiddenSize ? 0 : value;
    }

    /// <summary>Gate rows per hidden unit: 4 for an LSTM, 3 for a GRU.</summary>
    public int GateCount => Cell.GateCount();

    /// <summary>The input width of layer <paramref name="layer"/>: E for the first, H above it.</summary>
    public int InputSize(int layer) => layer == 0 ? EmbeddingSize : HiddenSize;

    /// <summary>A short description, e.g. <c>2x650 LSTM, embedding 650</c>.</summary>
    public string Describe() =>
        $"{Layers}x{HiddenSize} {Cell.Name().ToUpperInvariant()}, embedding {EmbeddingSize}, vocabulary {VocabularySize}{(TiedWeights ? ", tied" : "")}";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (VocabularySize < 1) throw new ArgumentException($"Vocabulary size must be positive (got {VocabularySize}).");
        if (HiddenSize < 1) throw new ArgumentException($"Hidden size must be positive (got {HiddenSize}).");
        if (EmbeddingSize < 1) throw new ArgumentException($"Embedding size must be positive (got {EmbeddingSize}).");
        if (Layers < 1) throw new ArgumentException($"The model needs at least one recurrent layer (got {Layers}).");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentException($"Dropout must be in [0, 1) (got {Dropout}).");
        if (!Enum.IsDefined(Cell)) throw new ArgumentException($"Unknown recurrent cell {(int)Cell}.");
        if (TiedWeights && EmbeddingSize != HiddenSize)
            throw new ArgumentException($"A tied decoder needs the embedding width to equal the hidden size (embedding {EmbeddingSize}, hidden {HiddenSize}).");
    }
}
