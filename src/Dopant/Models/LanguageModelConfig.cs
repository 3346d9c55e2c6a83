namespace Dopant.Models;

/// <summary>The architecture of a word-level LSTM language model (embedding width equals the hidden size).</summary>
/// <param name="VocabularySize">Number of words V.</param>
/// <param name="HiddenSize">LSTM hidden size H, also the embedding width.</param>
/// <param name="Layers">Number of stacked LSTM layers.</param>
/// <param name="Dropout">Drop probability on non-recurrent connections (Zaremba et al. 2014).</param>
/// <param name="TiedWeights">Whether the decoder shares the embedding's weights.</param>
public sealed record LanguageModelConfig(int VocabularySize, int HiddenSize, int Layers, double Dropout = 0, bool TiedWeights = false)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (VocabularySize < 1) throw new ArgumentException($"Vocabulary size must be positive (got {VocabularySize}).");
        if (HiddenSize < 1) throw new ArgumentException($"Hidden size must be positive (got {HiddenSize}).");
        if (Layers < 1) throw new ArgumentException($"The model needs at least one LSTM layer (got {Layers}).");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentException($"Dropout must be in [0, 1) (got {Dropout}).");
    }
}
