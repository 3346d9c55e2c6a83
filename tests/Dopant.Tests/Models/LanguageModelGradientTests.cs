using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;

namespace Dopant.Tests.Models;

public class LanguageModelGradientTests
{
    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(true, 0.0)]
    [InlineData(false, 0.3)]
    [InlineData(true, 0.5)]
    public void Backward_matches_finite_differences_for_every_parameter(bool tied, double dropout)
    {
        int vocabulary = 9, hidden = 5, layers = 2, steps = 4, batch = 3;
        var model = new LanguageModel<double>(new LanguageModelConfig(vocabulary, hidden, layers, dropout, tied)) { Training = true };
        model.InitializeUniform(0.5, new Xoshiro256(3));
        var random = new Random(11);
        int[] inputs = Enumerable.Range(0, steps * batch).Select(_ => random.Next(vocabulary)).ToArray();
        int[] targets = Enumerable.Range(0, steps * batch).Select(_ => random.Next(vocabulary)).ToArray();
        var initial = model.CreateState(batch);
        foreach (double[] s in initial.Hidden.Concat(initial.Cell)) FiniteDifferences.Fill(random, s, 0.5);

        // The same dropout masks on every evaluation: reseed the mask generator before each forward.
        double Loss()
        {
            model.Random = new Xoshiro256(42);
            var state = CopyState(model, initial, batch);
            return model.Forward(inputs, targets, steps, batch, state) / (steps * batch);
        }

        Loss();
        model.ZeroGradients();
        model.Backward(1.0 / (steps * batch));
        foreach (Parameter<double> p in model.Parameters)
            FiniteDifferences.Check(p.Name, p.Value, (double[])p.Gradient.Clone(), Loss, maxChecks: 120);
    }

    [Theory]
    [InlineData(RecurrentCell.Gru, 5, 5, false, 0.0)]
    [InlineData(RecurrentCell.Gru, 3, 5, false, 0.3)]
    [InlineData(RecurrentCell.Gru, 5, 5, true, 0.0)]
    [InlineData(RecurrentCell.Lstm, 3, 5, false, 0.0)]
    [InlineData(RecurrentCell.Lstm, 8, 5, false, 0.3)]
    public void Backward_matches_finite_differences_for_gru_cells_and_embedding_widths(RecurrentCell cell, int embedding, int hidden, bool tied, double dropout)
    {
        int vocabulary = 9, layers = 2, steps = 4, batch = 3;
        var config = new LanguageModelConfig(vocabulary, hidden, layers, dropout, tied) { Cell = cell, EmbeddingSize = embedding };
        var model = new LanguageModel<double>(config) { Training = true };
        Assert.Equal([vocabulary, embedding], model.Encoder.Weight.Shape);
        Assert.Equal(cell.GateCount() * hidden, model.Layers[0].InputWeights.Rows);
        Assert.Equal(embedding, model.Layers[0].InputSize);
        Assert.Equal(hidden, model.Layers[1].InputSize);
        model.InitializeUniform(0.5, new Xoshiro256(3));
        var random = new Random(17);
        int[] inputs = Enumerable.Range(0, steps * batch).Select(_ => random.Next(vocabulary)).ToArray();
        int[] targets = Enumerable.Range(0, steps * batch).Select(_ => random.Next(vocabulary)).ToArray();
        var initial = model.CreateState(batch);
        Assert.Equal(cell == RecurrentCell.Lstm, initial.Cell[0].Length > 0);
        foreach (double[] s in initial.Hidden.Concat(initial.Cell)) FiniteDifferences.Fill(random, s, 0.5);

        double Loss()
        {
            model.Random = new Xoshiro256(42);
            var state = CopyState(model, initial, batch);
            return model.Forward(inputs, targets, steps, batch, state) / (steps * batch);
        }

        Loss();
        model.ZeroGradients();
        model.Backward(1.0 / (steps * batch));
        foreach (Parameter<double> p in model.Parameters)
            FiniteDifferences.Check(p.Name, p.Value, (double[])p.Gradient.Clone(), Loss, maxChecks: 120);
    }

    [Theory]
    [InlineData(RecurrentCell.Lstm, 4, new[] { 6, 3 }, 0.0)]
    [InlineData(RecurrentCell.Gru, 5, new[] { 3, 6, 4 }, 0.3)]
    [InlineData(RecurrentCell.Lstm, 3, new[] { 2, 7, 5 }, 0.2)]
    public void Backward_matches_finite_differences_with_a_hidden_size_per_layer(RecurrentCell cell, int embedding, int[] sizes, double dropout)
    {
        int vocabulary = 9, steps = 4, batch = 3;
        var config = new LanguageModelConfig(vocabulary, sizes[^1], sizes.Length, dropout) { Cell = cell, EmbeddingSize = embedding, LayerSizes = new LayerSizes(sizes) };
        var model = new LanguageModel<double>(config) { Training = true };
        for (int l = 0; l < sizes.Length; l++)
        {
            Assert.Equal(sizes[l], model.Layers[l].HiddenSize);
            Assert.Equal(l == 0 ? embedding : sizes[l - 1], model.Layers[l].InputSize);
        }
        Assert.Equal((vocabulary, sizes[^1]), (model.Decoder.Weight.Rows, model.Decoder.Weight.Columns));
        model.InitializeUniform(0.5, new Xoshiro256(3));
        var random = new Random(23);
        int[] inputs = Enumerable.Range(0, steps * batch).Select(_ => random.Next(vocabulary)).ToArray();
        int[] targets = Enumerable.Range(0, steps * batch).Select(_ => random.Next(vocabulary)).ToArray();
        var initial = model.CreateState(batch);
        for (int l = 0; l < sizes.Length; l++) Assert.Equal(batch * sizes[l], initial.Hidden[l].Length);
        foreach (double[] s in initial.Hidden.Concat(initial.Cell)) FiniteDifferences.Fill(random, s, 0.5);

        double Loss()
        {
            model.Random = new Xoshiro256(42);
            var state = CopyState(model, initial, batch);
            return model.Forward(inputs, targets, steps, batch, state) / (steps * batch);
        }

        Loss();
        model.ZeroGradients();
        model.Backward(1.0 / (steps * batch));
        foreach (Parameter<double> p in model.Parameters)
            FiniteDifferences.Check(p.Name, p.Value, (double[])p.Gradient.Clone(), Loss, maxChecks: 120);
    }

    [Theory]
    [InlineData(new[] { 4, 5 }, 3, "name 2 layers; the model has 3")]
    [InlineData(new[] { 4, 6 }, 2, "end with 6, but the top layer's hidden size is 5")]
    [InlineData(new[] { 0, 5 }, 2, "must all be positive")]
    public void Layer_sizes_that_do_not_fit_the_stack_are_refused(int[] sizes, int layers, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => new LanguageModel<double>(new LanguageModelConfig(9, 5, layers) { LayerSizes = new LayerSizes(sizes) }));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Equal_layer_sizes_are_the_same_configuration_as_none()
    {
        var uniform = new LanguageModelConfig(9, 5, 2);
        Assert.Equal(uniform, uniform with { LayerSizes = new LayerSizes([5, 5]) });
        Assert.True(uniform.LayerSizes.IsEmpty);
        Assert.NotEqual(uniform, new LanguageModelConfig(9, 5, 2) { LayerSizes = new LayerSizes([4, 5]) });
        Assert.Equal(new LanguageModelConfig(9, 5, 2) { LayerSizes = new LayerSizes([4, 5]) }, new LanguageModelConfig(9, 5, 2) { LayerSizes = LayerSizes.Parse("4,5") });
        Assert.Equal("4,5 LSTM, embedding 5, vocabulary 9", new LanguageModelConfig(9, 5, 2) { LayerSizes = new LayerSizes([4, 5]) }.Describe());
    }

    [Fact]
    public void A_tied_decoder_with_an_embedding_narrower_than_the_hidden_size_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new LanguageModel<double>(new LanguageModelConfig(9, 5, 1, 0, true) { EmbeddingSize = 3 }));
        Assert.Contains("embedding 3, hidden 5", e.Message);
    }

    [Theory]
    [InlineData(0.5, 0.0)]
    [InlineData(1.0, 0.3)]
    [InlineData(0.25, 0.5)]
    public void Distilled_backward_matches_finite_differences_of_the_mixed_target_loss(double weight, double dropout)
    {
        int vocabulary = 11, hidden = 5, layers = 2, steps = 3, batch = 3, rows = steps * batch;
        var model = new LanguageModel<double>(new LanguageModelConfig(vocabulary, hidden, layers, dropout)) { Training = true };
        model.InitializeUniform(0.5, new Xoshiro256(5));
        var random = new Random(13);
        int[] inputs = Enumerable.Range(0, rows).Select(_ => random.Next(vocabulary)).ToArray();
        int[] targets = Enumerable.Range(0, rows).Select(_ => random.Next(vocabulary)).ToArray();
        // A teacher's distribution per row: positive, summing to one.
        double[] teacher = FiniteDifferences.RandomArray(random, rows * vocabulary).Select(Math.Exp).ToArray();
        for (int r = 0; r < rows; r++)
        {
            double sum = teacher.AsSpan(r * vocabulary, vocabulary).ToArray().Sum();
            for (int c = 0; c < vocabulary; c++) teacher[r * vocabulary + c] /= sum;
        }

        // (1 − w)·CE(targets) + w·H(teacher, p), summed over rows and divided by the batch (Zaremba's convention).
        double Loss()
        {
            model.Random = new Xoshiro256(42);
            double hard = model.Forward(inputs, targets, steps, batch, model.CreateState(batch));
            double soft = 0;
            ReadOnlySpan<double> p = model.Output;
            for (int k = 0; k < rows * vocabulary; k++) soft -= teacher[k] * Math.Log(p[k]);
            return ((1 - weight) * hard + weight * soft) / batch;
        }

        Loss();
        model.ZeroGradients();
        model.Backward(1.0 / batch, teacher, weight);
        foreach (Parameter<double> p in model.Parameters)
            FiniteDifferences.Check(p.Name, p.Value, (double[])p.Gradient.Clone(), Loss, maxChecks: 80);
    }

    [Fact]
    public void Distilled_backward_rejects_teacher_probabilities_of_another_shape()
    {
        var model = new LanguageModel<double>(new LanguageModelConfig(7, 3, 1));
        model.InitializeUniform(0.3, new Xoshiro256(1));
        model.Forward([1, 2, 3, 4], [2, 3, 4, 5], 2, 2, model.CreateState(2));
        var error = Assert.Throws<ArgumentException>(() => model.Backward(0.5, new double[4 * 6], 0.5));
        Assert.Contains("[4, 7]", error.Message);
    }

    [Fact]
    public void Forward_leaves_the_final_state_in_the_state_and_continues_from_it()
    {
        int vocabulary = 7, hidden = 4, steps = 6, batch = 2;
        var model = new LanguageModel<double>(new LanguageModelConfig(vocabulary, hidden, 2));
        model.InitializeUniform(0.4, new Xoshiro256(1));
        var random = new Random(2);
        int[] tokens = Enumerable.Range(0, (steps + 1) * batch).Select(_ => random.Next(vocabulary)).ToArray();
        int rows = steps * batch;

        var whole = model.CreateState(batch);
        double lossWhole = model.Forward(tokens.AsSpan(0, rows), tokens.AsSpan(batch, rows), steps, batch, whole);

        var split = model.CreateState(batch);
        int half = steps / 2 * batch;
        double lossA = model.Forward(tokens.AsSpan(0, half), tokens.AsSpan(batch, half), steps / 2, batch, split);
        double lossB = model.Forward(tokens.AsSpan(half, half), tokens.AsSpan(half + batch, half), steps / 2, batch, split);

        Assert.Equal(lossWhole, lossA + lossB, 10);
        for (int l = 0; l < 2; l++)
        {
            Assert.Equal(whole.Hidden[l], split.Hidden[l], new ToleranceComparer(1e-12));
            Assert.Equal(whole.Cell[l], split.Cell[l], new ToleranceComparer(1e-12));
        }
    }

    private static RecurrentState<double> CopyState(LanguageModel<double> model, RecurrentState<double> source, int batch)
    {
        var copy = model.CreateState(batch);
        for (int l = 0; l < source.Hidden.Length; l++)
        {
            source.Hidden[l].CopyTo(copy.Hidden[l], 0);
            source.Cell[l].CopyTo(copy.Cell[l], 0);
        }
        return copy;
    }
}
