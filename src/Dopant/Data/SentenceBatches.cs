using Dopant.Numerics;

namespace Dopant.Data;

/// <summary>
/// Sentences cut into batches of similar lengths (bucketing): sorted by length, then taken <see cref="BatchSize"/> at a
/// time, so that a batch pads little. A batch is written time-major and padded with token 0 (<c>&lt;unk&gt;</c>, never
/// read) to its longest sentence.
/// </summary>
public sealed class SentenceBatches
{
    private readonly IReadOnlyList<LabeledSentence> _sentences;
    private readonly int[][] _batches;
    private readonly LabelingTask _task;

    /// <summary>Groups <paramref name="sentences"/> into batches of at most <paramref name="batchSize"/>.</summary>
    /// <exception cref="InvalidDataException">A sentence is longer than <paramref name="maxLength"/>; the message names its line in <paramref name="source"/>.</exception>
    public SentenceBatches(IReadOnlyList<LabeledSentence> sentences, LabelingTask task, int batchSize, int maxLength, string source)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        foreach (LabeledSentence s in sentences)
            if (s.Tokens.Length > maxLength)
                throw new InvalidDataException($"'{source}' line {s.Line}: a sentence of {s.Tokens.Length} tokens is longer than the longest batch allows ({maxLength}; see --max-length).");
        _sentences = sentences;
        _task = task;
        BatchSize = batchSize;
        int[] byLength = [.. Enumerable.Range(0, sentences.Count).OrderBy(i => sentences[i].Tokens.Length).ThenBy(i => i)];
        _batches = [.. byLength.Chunk(batchSize)];
        MaxSteps = sentences.Count == 0 ? 0 : sentences.Max(s => s.Tokens.Length);
        Labels = sentences.Sum(s => s.Labels.Length);
    }

    /// <summary>Sentences per batch (the last may hold fewer).</summary>
    public int BatchSize { get; }

    /// <summary>Number of batches.</summary>
    public int Count => _batches.Length;

    /// <summary>The longest sentence.</summary>
    public int MaxSteps { get; }

    /// <summary>Labels over all sentences (tokens for tagging, sentences for classification).</summary>
    public int Labels { get; }

    /// <summary>The batches in a random order drawn from <paramref name="random"/> (Fisher–Yates), or in length order when null.</summary>
    public int[] Order(Xoshiro256? random)
    {
        int[] order = [.. Enumerable.Range(0, _batches.Length)];
        if (random is null) return order;
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = random.NextInt32(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>The sentences of batch <paramref name="index"/>.</summary>
    public IEnumerable<LabeledSentence> Sentences(int index) => _batches[index].Select(i => _sentences[i]);

    /// <summary>
    /// Writes batch <paramref name="index"/> time-major into the buffers (each at least <see cref="MaxSteps"/> ×
    /// <see cref="BatchSize"/> long): tokens and, for tagging, labels [T·B] padded with 0; for classification, one label
    /// per sentence; and the lengths [B].
    /// </summary>
    /// <returns>(T, B): the batch's steps and sentences.</returns>
    public (int Steps, int Batch) Fill(int index, Span<int> tokens, Span<int> lengths, Span<int> labels)
    {
        int[] members = _batches[index];
        int batch = members.Length, steps = members.Max(i => _sentences[i].Tokens.Length);
        tokens[..(steps * batch)].Clear();
        bool tagging = _task == LabelingTask.Tagging;
        if (tagging) labels[..(steps * batch)].Clear();
        for (int b = 0; b < batch; b++)
        {
            LabeledSentence s = _sentences[members[b]];
            lengths[b] = s.Tokens.Length;
            for (int t = 0; t < s.Tokens.Length; t++) tokens[t * batch + b] = s.Tokens[t];
            if (tagging)
                for (int t = 0; t < s.Tokens.Length; t++) labels[t * batch + b] = s.Labels[t];
            else labels[b] = s.Labels[0];
        }
        return (steps, batch);
    }
}
