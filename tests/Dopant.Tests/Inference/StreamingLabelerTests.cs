using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;

namespace Dopant.Tests.Inference;

/// <summary>The streaming runtime of unidirectional taggers and classifiers against the training model's forward on whole sentences.</summary>
public class StreamingLabelerTests
{
    public static TheoryData<RecurrentCell, LabelHead, SentencePooling, string> Models() => new()
    {
        { RecurrentCell.Lstm, LabelHead.TokenLabels, SentencePooling.Final, """{"kind":"dense"}""" },
        { RecurrentCell.Gru, LabelHead.TokenLabels, SentencePooling.Final, """{"kind":"doped","structure":{"kind":"low_rank","rank":2}}""" },
        { RecurrentCell.Lstm, LabelHead.SequenceLabel, SentencePooling.Final, """{"kind":"low_rank","rank":3}""" },
        { RecurrentCell.Gru, LabelHead.SequenceLabel, SentencePooling.Mean, """{"kind":"dense"}""" },
        { RecurrentCell.Lstm, LabelHead.SequenceLabel, SentencePooling.Mean, """{"kind":"pruned"}""" },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Labels_stream_what_the_sentence_forward_computes(RecurrentCell cell, LabelHead head, SentencePooling pooling, string form)
    {
        var model = new SentenceLabeler<float>(new SentenceModelConfig(23, 7, 10, 2, 5, head) { Cell = cell, Pooling = pooling });
        model.InitializeUniform(0.4, new Xoshiro256(3));
        model.Compress(name => name.StartsWith("rnn.", StringComparison.Ordinal) ? WeightFormSpec.Parse(form) : null);
        foreach (PrunedMatrix<float> part in model.WeightMatrices.SelectMany(m => WeightForms.PrunedParts(m.Matrix))) part.PruneToSparsity(0.6);
        var runtime = StreamingLabeler.From(model);
        var random = new Random(5);
        var logits = new float[5];
        for (int sentence = 0; sentence < 3; sentence++)
        {
            int[] tokens = [.. Enumerable.Range(0, 4 + 3 * sentence).Select(_ => random.Next(23))];
            model.Forward(tokens, [tokens.Length], new int[head == LabelHead.TokenLabels ? tokens.Length : 1], tokens.Length, 1);
            float[] expected = model.Probabilities.ToArray();
            runtime.Reset();
            for (int t = 0; t < tokens.Length; t++)
            {
                runtime.Advance(tokens[t]);
                if (head == LabelHead.TokenLabels)
                {
                    runtime.TokenLogits(logits);
                    AssertSoftmaxClose(expected.AsSpan(t * 5, 5), logits);
                }
            }
            if (head == LabelHead.SequenceLabel)
            {
                runtime.SentenceLogits(logits);
                AssertSoftmaxClose(expected, logits);
            }
        }
        runtime.Reset();
        for (int t = 0; t < 5; t++) runtime.Advance(t);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < 100; t++)
        {
            runtime.Advance(t % 23);
            if (head == LabelHead.TokenLabels) runtime.TokenLogits(logits);
            else runtime.SentenceLogits(logits);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A_bidirectional_model_is_refused_in_one_line()
    {
        var model = new SentenceLabeler<float>(new SentenceModelConfig(9, 3, 4, 1, 3, LabelHead.TokenLabels) { Bidirectional = true });
        Assert.Contains("bidirectional model reads every sentence backwards", Assert.Throws<NotSupportedException>(() => StreamingLabeler.From(model)).Message);
    }

    private static void AssertSoftmaxClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (float z in logits) max = Math.Max(max, z);
        double sum = 0;
        foreach (float z in logits) sum += Math.Exp(z - max);
        for (int c = 0; c < expected.Length; c++)
        {
            double p = Math.Exp(logits[c] - max) / sum;
            Assert.True(Math.Abs(p - expected[c]) <= 1e-5 * Math.Max(1, expected[c]), $"label {c}: streamed {p}, forward {expected[c]}");
        }
    }
}
