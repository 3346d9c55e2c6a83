using System.Numerics.Tensors;
using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Inference;

/// <summary>
/// A unidirectional tagger or classifier prepared for streaming, one token at a time with no allocation: its weights
/// copied into the runtime's forms (dense ones at a <see cref="WeightPrecision"/>). A tagger's labels for the last
/// token come from <see cref="TokenLogits"/>; a classifier's for the sentence so far from <see cref="SentenceLogits"/>
/// (the final state, or the mean of the top layer's outputs). In fp32 they equal the training model's forward on the
/// sentence up to float rounding. <see cref="Reset"/> starts the next sentence.
/// </summary>
public sealed class StreamingLabeler
{
    private readonly StepStack _stack;
    private readonly IStepMatrix _decoder;
    private readonly float[] _decoderBias, _sum, _mean;
    private readonly SentencePooling _pooling;
    private int _tokens;

    private StreamingLabeler(SentenceLabeler<float> model, WeightPrecision precision)
    {
        SentenceModelConfig config = model.Config;
        VocabularySize = config.VocabularySize;
        LabelCount = config.LabelCount;
        Head = config.Head;
        _pooling = config.Pooling;
        _stack = new StepStack(model.Encoder, model.Layers.Select(l => l.Forward), precision);
        _decoder = StepMatrices.From(model.Decoder.Weight, precision);
        _decoderBias = (float[])model.Decoder.Bias.Value.Clone();
        _sum = new float[config.HiddenSize];
        _mean = new float[config.HiddenSize];
    }

    /// <summary>Prepares a unidirectional <paramref name="model"/>'s current weights.</summary>
    /// <exception cref="NotSupportedException">The model is bidirectional: its reverse direction needs the whole sentence first.</exception>
    public static StreamingLabeler From(SentenceLabeler<float> model, WeightPrecision precision = WeightPrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Config.Bidirectional)
            throw new NotSupportedException("A bidirectional model reads every sentence backwards too, so it cannot label a stream token by token; run SentenceLabeler.Forward on whole sentences.");
        return new StreamingLabeler(model, precision);
    }

    /// <summary>The vocabulary size V.</summary>
    public int VocabularySize { get; }

    /// <summary>The number of labels C (length of the logits).</summary>
    public int LabelCount { get; }

    /// <summary>Token labels (a tagger) or a sentence label (a classifier).</summary>
    public LabelHead Head { get; }

    /// <summary>Bytes of weights one <see cref="Advance"/> reads: the recurrent layers' matrices and biases, and one embedding row.</summary>
    public long RecurrentWeightBytes => _stack.WeightBytes;

    /// <summary>Bytes of weights one label decision reads: the head's matrix and bias.</summary>
    public long DecoderWeightBytes => _decoder.WeightBytes + (long)_decoderBias.Length * sizeof(float);

    /// <summary>Bytes of every weight the runtime holds: the whole embedding, the recurrent layers and the head.</summary>
    public long ModelWeightBytes => _stack.ModelWeightBytes + DecoderWeightBytes;

    /// <summary>Tokens read since the last <see cref="Reset"/>.</summary>
    public int Tokens => _tokens;

    /// <summary>Starts a new sentence: every state back to zero.</summary>
    public void Reset()
    {
        _stack.Reset();
        Array.Clear(_sum);
        _tokens = 0;
    }

    /// <summary>Reads one token.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The token is not in [0, V).</exception>
    public void Advance(int token)
    {
        _stack.Advance(token);
        if (Head == LabelHead.SequenceLabel && _pooling == SentencePooling.Mean) TensorPrimitives.Add(_sum, _stack.Hidden, _sum);
        _tokens++;
    }

    /// <summary>A tagger's label logits (C values) for the last token read.</summary>
    public void TokenLogits(Span<float> logits)
    {
        if (Head != LabelHead.TokenLabels) throw new InvalidOperationException("A classifier labels sentences; use SentenceLogits.");
        Decode(_stack.Hidden, logits);
    }

    /// <summary>A classifier's label logits (C values) for the sentence read so far.</summary>
    public void SentenceLogits(Span<float> logits)
    {
        if (Head != LabelHead.SequenceLabel) throw new InvalidOperationException("A tagger labels tokens; use TokenLogits.");
        if (_tokens == 0) throw new InvalidOperationException("No token has been read since the last Reset.");
        if (_pooling == SentencePooling.Final)
        {
            Decode(_stack.Hidden, logits);
            return;
        }
        TensorPrimitives.Multiply(_sum, 1f / _tokens, _mean);
        Decode(_mean, logits);
    }

    private void Decode(ReadOnlySpan<float> features, Span<float> logits)
    {
        if (logits.Length < LabelCount) throw new ArgumentException($"logits needs {LabelCount} elements.", nameof(logits));
        _decoderBias.CopyTo(logits);
        _decoder.MultiplyAdd(features, logits[..LabelCount]);
    }
}
