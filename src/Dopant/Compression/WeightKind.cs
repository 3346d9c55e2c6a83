namespace Dopant.Compression;

/// <summary>What a weight matrix of a model is, for selecting weights by kind.</summary>
public enum WeightKind
{
    /// <summary>The word embedding, <c>encoder.weight</c>.</summary>
    Embedding,

    /// <summary>A recurrent layer's input matrix, <c>rnn.weight_ih_l{i}</c> (and <c>..._reverse</c>).</summary>
    LstmInput,

    /// <summary>A recurrent layer's recurrent matrix, <c>rnn.weight_hh_l{i}</c> (and <c>..._reverse</c>).</summary>
    LstmRecurrent,

    /// <summary>The output projection (to words or labels), <c>decoder.weight</c>.</summary>
    Decoder,
}

/// <summary>The <see cref="WeightKind"/> of a weight matrix's state-dict name.</summary>
public static class WeightKinds
{
    /// <summary>The kind of the matrix named <paramref name="name"/>, or null for a name no kind describes (a combined LSTM matrix).</summary>
    public static WeightKind? Of(string name) =>
        name == "encoder.weight" ? WeightKind.Embedding
        : name == "decoder.weight" ? WeightKind.Decoder
        : name.StartsWith("rnn.weight_ih_", StringComparison.Ordinal) ? WeightKind.LstmInput
        : name.StartsWith("rnn.weight_hh_", StringComparison.Ordinal) ? WeightKind.LstmRecurrent
        : null;
}
