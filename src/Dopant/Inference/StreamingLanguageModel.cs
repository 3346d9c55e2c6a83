using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Inference;

/// <summary>
/// A trained language model prepared for streaming inference, batch 1, token by token (the on-device case): its
/// weights copied once into read-only forms with a kernel each (GEMV for dense, in fp32, fp16 or int8 with per-row
/// scales; two small GEMMs for Kronecker; two GEMVs for low-rank; sliced ELL with 16-bit column indices for sparse
/// parts), then <see cref="Advance"/> and <see cref="Logits"/> per token with no allocation. In fp32 the outputs equal
/// the training model's forward (up to float rounding). One instance holds one stream's state; build one per
/// concurrent stream.
/// </summary>
public sealed class StreamingLanguageModel : IStreamingModel
{
    private readonly StepStack _stack;
    private readonly float[] _decoderBias;
    private readonly IStepMatrix _decoder;

    private StreamingLanguageModel(LanguageModel<float> model, WeightPrecision precision)
    {
        VocabularySize = model.Config.VocabularySize;
        HiddenSize = model.Config.HiddenSize;
        _stack = new StepStack(model.Encoder, model.Layers, precision);
        _decoder = StepMatrices.From(model.Decoder.Weight, precision);
        Precision = precision;
        _decoderBias = (float[])model.Decoder.Bias.Value.Clone();
    }

    /// <summary>
    /// Prepares <paramref name="model"/>'s current weights (later changes to the model are not seen), its dense
    /// matrices (embedding, dense LSTM matrices, decoder) stored at <paramref name="precision"/>, and at int8 also the
    /// values of S or pruned matrices in 8, 16 or 32×1 blocks; the other compressed forms stay in 32-bit floats.
    /// </summary>
    public static StreamingLanguageModel From(LanguageModel<float> model, WeightPrecision precision = WeightPrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new StreamingLanguageModel(model, precision);
    }

    /// <summary>How the dense matrices are stored.</summary>
    public WeightPrecision Precision { get; }

    /// <summary>The vocabulary size V (length of the logits).</summary>
    public int VocabularySize { get; }

    /// <summary>The hidden size H.</summary>
    public int HiddenSize { get; }

    /// <summary>Bytes of weights one <see cref="Advance"/> reads: the recurrent layers' matrices and biases, and one embedding row.</summary>
    public long RecurrentWeightBytes => _stack.WeightBytes;

    /// <summary>Bytes of weights one <see cref="Logits"/> reads: the decoder matrix and bias.</summary>
    public long DecoderWeightBytes => _decoder.WeightBytes + (long)_decoderBias.Length * sizeof(float);

    /// <inheritdoc/>
    public long ModelWeightBytes => _stack.ModelWeightBytes + DecoderWeightBytes;

    /// <summary>The top layer's hidden state after the last token, H values.</summary>
    public ReadOnlySpan<float> Hidden => _stack.Hidden;

    /// <summary>Sets every layer's state back to zero (the start of a stream).</summary>
    public void Reset() => _stack.Reset();

    /// <summary>Feeds one token through the embedding and the recurrent layers.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The token is not in [0, V).</exception>
    public void Advance(int token) => _stack.Advance(token);

    /// <summary>Writes the next-token logits (V values) for the state after the last <see cref="Advance"/>.</summary>
    public void Logits(Span<float> logits)
    {
        if (logits.Length < VocabularySize) throw new ArgumentException($"logits needs {VocabularySize} elements.", nameof(logits));
        _decoderBias.CopyTo(logits);
        _decoder.MultiplyAdd(Hidden, logits[..VocabularySize]);
    }

    /// <summary><see cref="Advance"/> with <paramref name="token"/>, then <see cref="Logits"/>.</summary>
    public void Step(int token, Span<float> logits)
    {
        Advance(token);
        Logits(logits);
    }
}
