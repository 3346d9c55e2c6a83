namespace Dopant.Compression;

/// <summary>What a weight matrix of a language model is, for selecting weights by kind.</summary>
public enum WeightKind
{
    /// <summary>The word embedding, <c>encoder.weight</c>.</summary>
    Embedding,

    /// <summary>An LSTM layer's input matrix, <c>rnn.weight_ih_l{i}</c>.</summary>
    LstmInput,

    /// <summary>An LSTM layer's recurrent matrix, <c>rnn.weight_hh_l{i}</c>.</summary>
    LstmRecurrent,

    /// <summary>The output projection, <c>decoder.weight</c>.</summary>
    Decoder,
}
