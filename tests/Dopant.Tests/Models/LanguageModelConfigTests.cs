using Dopant.Models;

namespace Dopant.Tests.Models;

public class LanguageModelConfigTests
{
    [Fact]
    public void Dense_training_flops_per_token_count_six_per_recurrent_and_decoder_weight()
    {
        // small: 2 LSTM layers of 200 over a 200-wide embedding, 10,000 words: the "about 16 MFLOP a token".
        Assert.Equal(6.0 * (2 * 4 * 200 * 400 + 10_000 * 200), new LanguageModelConfig(10_000, 200, 2).DenseTrainingFlopsPerToken());
        Assert.Equal(6.0 * (2 * 4 * 650 * 1300 + 10_000 * 650), new LanguageModelConfig(10_000, 650, 2).DenseTrainingFlopsPerToken());
        // A GRU (3 gates) with a hidden size per layer (7 over 3) over a 5-wide embedding, 11 words.
        var gru = new LanguageModelConfig(11, 3, 2) { Cell = RecurrentCell.Gru, EmbeddingSize = 5, LayerSizes = new LayerSizes([7, 3]) };
        Assert.Equal(6.0 * (3 * 7 * (5 + 7) + 3 * 3 * (7 + 3) + 11 * 3), gru.DenseTrainingFlopsPerToken());
    }
}
