using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;

namespace Dopant.Tests.Models;

/// <summary>Taggers and classifiers: every parameter's gradient against finite differences in double, with dropout and compressed forms.</summary>
public class SentenceLabelerGradientTests
{
    [Theory]
    [InlineData(RecurrentCell.Lstm, true, LabelHead.TokenLabels, SentencePooling.Final, 0.0)]
    [InlineData(RecurrentCell.Gru, true, LabelHead.TokenLabels, SentencePooling.Final, 0.3)]
    [InlineData(RecurrentCell.Lstm, false, LabelHead.SequenceLabel, SentencePooling.Final, 0.0)]
    [InlineData(RecurrentCell.Gru, true, LabelHead.SequenceLabel, SentencePooling.Final, 0.2)]
    [InlineData(RecurrentCell.Lstm, true, LabelHead.SequenceLabel, SentencePooling.Mean, 0.0)]
    [InlineData(RecurrentCell.Gru, false, LabelHead.SequenceLabel, SentencePooling.Mean, 0.0)]
    public void Backward_matches_finite_differences(RecurrentCell cell, bool bidirectional, LabelHead head, SentencePooling pooling, double dropout)
    {
        int vocabulary = 8, steps = 5, batch = 3;
        var model = new SentenceLabeler<double>(new SentenceModelConfig(vocabulary, 3, 4, 2, 3, head)
        {
            Cell = cell, Bidirectional = bidirectional, Pooling = pooling, Dropout = dropout,
        }) { Training = true };
        model.InitializeUniform(0.6, new Xoshiro256(5));
        var random = new Random(9);
        int[] lengths = [5, 2, 4];
        int[] tokens = [.. Enumerable.Range(0, steps * batch).Select(_ => random.Next(vocabulary))];
        int[] labels = [.. Enumerable.Range(0, head == LabelHead.TokenLabels ? steps * batch : batch).Select(_ => random.Next(3))];

        double Loss()
        {
            model.Random = new Xoshiro256(42);
            return model.Forward(tokens, lengths, labels, steps, batch) / model.Count;
        }

        Loss();
        Assert.Equal(head == LabelHead.TokenLabels ? 11 : 3, model.Count);
        model.ZeroGradients();
        model.Backward(1.0 / model.Count);
        foreach (Parameter<double> p in model.Parameters)
            FiniteDifferences.Check(p.Name, p.Value, (double[])p.Gradient.Clone(), Loss, maxChecks: 60);
    }

    [Theory]
    [InlineData(RecurrentCell.Lstm, true, LabelHead.TokenLabels, SentencePooling.Final)]
    [InlineData(RecurrentCell.Gru, true, LabelHead.SequenceLabel, SentencePooling.Final)]
    [InlineData(RecurrentCell.Lstm, false, LabelHead.SequenceLabel, SentencePooling.Mean)]
    public void Backward_matches_finite_differences_with_a_hidden_size_per_layer(RecurrentCell cell, bool bidirectional, LabelHead head, SentencePooling pooling)
    {
        int vocabulary = 8, steps = 5, batch = 3;
        var model = new SentenceLabeler<double>(new SentenceModelConfig(vocabulary, 3, 2, 3, 3, head)
        {
            Cell = cell, Bidirectional = bidirectional, Pooling = pooling, Dropout = 0.2, LayerSizes = new LayerSizes([5, 3, 2]),
        }) { Training = true };
        int directions = bidirectional ? 2 : 1;
        Assert.Equal([3, 5 * directions, 3 * directions], model.Layers.Select(l => l.InputSize));
        Assert.Equal(2 * directions, model.Config.OutputSize);
        model.InitializeUniform(0.6, new Xoshiro256(7));
        var random = new Random(19);
        int[] lengths = [5, 2, 4];
        int[] tokens = [.. Enumerable.Range(0, steps * batch).Select(_ => random.Next(vocabulary))];
        int[] labels = [.. Enumerable.Range(0, head == LabelHead.TokenLabels ? steps * batch : batch).Select(_ => random.Next(3))];

        double Loss()
        {
            model.Random = new Xoshiro256(42);
            return model.Forward(tokens, lengths, labels, steps, batch) / model.Count;
        }

        Loss();
        model.ZeroGradients();
        model.Backward(1.0 / model.Count);
        foreach (Parameter<double> p in model.Parameters)
            FiniteDifferences.Check(p.Name, p.Value, (double[])p.Gradient.Clone(), Loss, maxChecks: 60);
    }

    [Theory]
    [InlineData(LabelHead.TokenLabels, 0.5)]
    [InlineData(LabelHead.SequenceLabel, 1.0)]
    public void Distilled_backward_matches_finite_differences_of_the_mixed_target_loss(LabelHead head, double weight)
    {
        int vocabulary = 8, steps = 4, batch = 3, labelCount = 3;
        var model = new SentenceLabeler<double>(new SentenceModelConfig(vocabulary, 3, 4, 2, labelCount, head) { Bidirectional = true, Dropout = 0.2 }) { Training = true };
        model.InitializeUniform(0.6, new Xoshiro256(8));
        var random = new Random(29);
        int[] lengths = [4, 1, 3];
        int[] tokens = [.. Enumerable.Range(0, steps * batch).Select(_ => random.Next(vocabulary))];
        int[] labels = [.. Enumerable.Range(0, head == LabelHead.TokenLabels ? steps * batch : batch).Select(_ => random.Next(labelCount))];
        int count = head == LabelHead.TokenLabels ? lengths.Sum() : batch;
        // A teacher's distribution per labeled row: positive, summing to one.
        double[] teacher = FiniteDifferences.RandomArray(random, count * labelCount).Select(Math.Exp).ToArray();
        for (int r = 0; r < count; r++)
        {
            double sum = teacher.AsSpan(r * labelCount, labelCount).ToArray().Sum();
            for (int c = 0; c < labelCount; c++) teacher[r * labelCount + c] /= sum;
        }

        // (1 − w)·CE(labels) + w·H(teacher, p), summed over the labeled rows and divided by their count.
        double Loss()
        {
            model.Random = new Xoshiro256(42);
            double hard = model.Forward(tokens, lengths, labels, steps, batch);
            double soft = 0;
            ReadOnlySpan<double> p = model.Probabilities;
            for (int k = 0; k < count * labelCount; k++) soft -= teacher[k] * Math.Log(p[k]);
            return ((1 - weight) * hard + weight * soft) / count;
        }

        Loss();
        Assert.Equal(count, model.Count);
        model.ZeroGradients();
        model.Backward(1.0 / count, teacher, weight);
        foreach (Parameter<double> p in model.Parameters)
            FiniteDifferences.Check(p.Name, p.Value, (double[])p.Gradient.Clone(), Loss, maxChecks: 60);
    }

    [Fact]
    public void Padding_does_not_change_a_sentences_loss_or_gradients()
    {
        var config = new SentenceModelConfig(9, 4, 3, 2, 4, LabelHead.TokenLabels) { Bidirectional = true, Cell = RecurrentCell.Gru };
        var alone = new SentenceLabeler<double>(config);
        var padded = new SentenceLabeler<double>(config);
        alone.InitializeUniform(0.5, new Xoshiro256(2));
        padded.InitializeUniform(0.5, new Xoshiro256(2));
        int[] sentence = [3, 1, 7], tags = [0, 2, 3];
        double lossAlone = alone.Forward(sentence, [3], tags, 3, 1);
        // The same sentence in a batch of two, padded to 6 steps beside a longer one (whose loss is subtracted).
        int[] tokens = [3, 5, 1, 6, 7, 2, 8, 4, 8, 1, 8, 2];
        int[] labels = [0, 1, 2, 1, 3, 0, 0, 2, 0, 3, 0, 1];
        var other = new SentenceLabeler<double>(config);
        other.InitializeUniform(0.5, new Xoshiro256(2));
        double lossOther = other.Forward([5, 6, 2, 4, 1, 2], [6], [1, 1, 0, 2, 3, 1], 6, 1);
        double lossBoth = padded.Forward(tokens, [3, 6], labels, 6, 2);
        Assert.Equal(lossAlone + lossOther, lossBoth, 10);

        alone.ZeroGradients();
        other.ZeroGradients();
        padded.ZeroGradients();
        alone.Backward(1.0);
        other.Backward(1.0);
        padded.Backward(1.0);
        foreach ((Parameter<double> a, Parameter<double> o, Parameter<double> p) in alone.Parameters.Zip(other.Parameters, padded.Parameters))
            for (int k = 0; k < p.Length; k++) Assert.Equal(a.Gradient[k] + o.Gradient[k], p.Gradient[k], 10);
    }

    [Fact]
    public void Bad_batches_are_refused_naming_the_problem()
    {
        var model = new SentenceLabeler<double>(new SentenceModelConfig(9, 4, 3, 1, 4, LabelHead.TokenLabels));
        Assert.Contains("length of 0", Assert.Throws<ArgumentException>(() => model.Forward([1, 2], [0, 1], [0, 0], 1, 2)).Message);
        Assert.Contains("length of 3", Assert.Throws<ArgumentException>(() => model.Forward([1, 2], [3, 1], [0, 0], 1, 2)).Message);
        Assert.Contains("Label 4", Assert.Throws<ArgumentException>(() => model.Forward([1, 2], [1, 1], [4, 0], 1, 2)).Message);
        Assert.Contains("at least two labels", Assert.Throws<ArgumentException>(() => new SentenceLabeler<double>(new SentenceModelConfig(9, 4, 3, 1, 1, LabelHead.SequenceLabel))).Message);
    }
}
