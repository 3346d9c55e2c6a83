namespace Dopant.Inference;

/// <summary>
/// A language model run one token at a time with its state carried (batch 1): what <see cref="InferenceBenchmark"/>
/// times. Dopant's <see cref="StreamingLanguageModel"/> is one; a peer runtime behind an adapter is another.
/// </summary>
public interface IStreamingModel
{
    /// <summary>The vocabulary size V (length of the logits).</summary>
    int VocabularySize { get; }

    /// <summary>Bytes of weights one <see cref="Advance"/> reads.</summary>
    long RecurrentWeightBytes { get; }

    /// <summary>Bytes of weights the head reads per token.</summary>
    long DecoderWeightBytes { get; }

    /// <summary>Bytes of every weight the runtime holds: the whole embedding, the recurrent layers and the head.</summary>
    long ModelWeightBytes { get; }

    /// <summary>Sets the state back to the start of a stream.</summary>
    void Reset();

    /// <summary>Feeds one token through the embedding and the recurrent layers.</summary>
    void Advance(int token);

    /// <summary>Feeds one token and writes the next-token logits (V values).</summary>
    void Step(int token, Span<float> logits);
}
