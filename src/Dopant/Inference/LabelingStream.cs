using Dopant.Models;

namespace Dopant.Inference;

/// <summary>
/// A unidirectional tagger or classifier seen by <see cref="InferenceBenchmark"/> as a streaming model whose "logits"
/// are its label logits: every step reads a token and decides a label, the tagger's for that token and the
/// classifier's for the sentence so far, so that a timed step costs what labeling a stream costs per token.
/// </summary>
public sealed class LabelingStream : IStreamingModel
{
    private readonly StreamingLabeler _labeler;

    /// <summary>Wraps <paramref name="labeler"/>.</summary>
    public LabelingStream(StreamingLabeler labeler)
    {
        ArgumentNullException.ThrowIfNull(labeler);
        _labeler = labeler;
    }

    /// <summary>The number of labels (length of the logits a step writes).</summary>
    public int VocabularySize => _labeler.LabelCount;

    /// <inheritdoc/>
    public long RecurrentWeightBytes => _labeler.RecurrentWeightBytes;

    /// <inheritdoc/>
    public long DecoderWeightBytes => _labeler.DecoderWeightBytes;

    /// <inheritdoc/>
    public long ModelWeightBytes => _labeler.ModelWeightBytes;

    /// <inheritdoc/>
    public void Reset() => _labeler.Reset();

    /// <inheritdoc/>
    public void Advance(int token) => _labeler.Advance(token);

    /// <summary>Reads one token and writes the label logits: the token's (a tagger) or the sentence's so far (a classifier).</summary>
    public void Step(int token, Span<float> logits)
    {
        _labeler.Advance(token);
        if (_labeler.Head == LabelHead.TokenLabels) _labeler.TokenLogits(logits);
        else _labeler.SentenceLogits(logits);
    }
}
