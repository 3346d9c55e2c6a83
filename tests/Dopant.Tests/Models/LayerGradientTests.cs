using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;

namespace Dopant.Tests.Models;

public class LayerGradientTests
{
    [Fact]
    public void Embedding_backward_scatters_into_the_used_rows_including_repeats()
    {
        var random = new Random(1);
        var embedding = new Embedding<double>(6, 4);
        FiniteDifferences.Fill(random, embedding.Weight.Value, 1);
        int[] tokens = [2, 5, 2, 0, 3];
        double[] w = FiniteDifferences.RandomArray(random, tokens.Length * 4);
        var output = new double[tokens.Length * 4];
        double Loss()
        {
            embedding.Forward(tokens, output);
            return w.Zip(output, (a, b) => a * b).Sum();
        }
        embedding.Backward(tokens, w);
        FiniteDifferences.Check("encoder.weight", embedding.Weight.Value, embedding.Weight.Gradient, Loss);
        Assert.All(embedding.Weight.Gradient.AsSpan(4, 4).ToArray(), g => Assert.Equal(0, g)); // row 1 unused
    }

    [Fact]
    public void Embedding_rejects_a_token_outside_the_vocabulary()
    {
        var embedding = new Embedding<float>(3, 2);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => embedding.Forward([1, 3], new float[4]));
        Assert.Contains("outside the vocabulary", ex.Message);
    }

    [Fact]
    public void Dropout_with_a_fixed_mask_has_the_masked_gradient()
    {
        var random = new Random(2);
        var dropout = new Dropout<double>(0.4);
        double[] x = FiniteDifferences.RandomArray(random, 17);
        double[] mask = Enumerable.Range(0, 17).Select(i => i % 3 == 0 ? 0 : 1 / 0.6).ToArray();
        double[] w = FiniteDifferences.RandomArray(random, 17);
        double Loss()
        {
            var y = (double[])x.Clone();
            dropout.Forward(y, mask);
            return w.Zip(y, (a, b) => a * b).Sum();
        }
        Loss();
        var gradient = (double[])w.Clone();
        dropout.Backward(gradient);
        FiniteDifferences.Check("x", x, gradient, Loss);
    }

    [Fact]
    public void Dropout_keeps_about_one_minus_p_and_preserves_the_mean()
    {
        var dropout = new Dropout<double>(0.3);
        var data = Enumerable.Repeat(1.0, 100_000).ToArray();
        dropout.Forward(data, new Xoshiro256(9));
        double kept = data.Count(v => v != 0) / (double)data.Length;
        Assert.InRange(kept, 0.69, 0.71);
        Assert.InRange(data.Average(), 0.98, 1.02);
        Assert.All(data.Where(v => v != 0), v => Assert.Equal(1 / 0.7, v, 12));
    }

    [Fact]
    public void Decoder_and_softmax_cross_entropy_match_finite_differences()
    {
        var random = new Random(3);
        int rows = 5, input = 4, classes = 7;
        var linear = new Linear<double>(new DenseMatrix<double>("decoder.weight", classes, input), "decoder.bias");
        foreach (Parameter<double> p in linear.Weight.Parameters.Append(linear.Bias)) FiniteDifferences.Fill(random, p.Value, 1);
        double[] x = FiniteDifferences.RandomArray(random, rows * input);
        int[] targets = [0, 6, 3, 3, 1];
        var logits = new double[rows * classes];
        double Loss()
        {
            linear.Forward(x, logits, rows);
            return SoftmaxCrossEntropy.Forward<double>(logits, targets, classes);
        }
        Loss();
        SoftmaxCrossEntropy.Backward<double>(logits, targets, classes, 1.0);
        var dx = new double[x.Length];
        linear.Backward(x, logits, dx, rows);
        foreach (Parameter<double> p in linear.Weight.Parameters.Append(linear.Bias))
            FiniteDifferences.Check(p.Name, p.Value, p.Gradient, Loss);
        FiniteDifferences.Check("x", x, dx, Loss);
    }

    [Theory]
    [InlineData(1, 1, 0.0)]
    [InlineData(3, 17, 0.4)]
    [InlineData(7, 33, 1.0)]
    public void Distilled_softmax_backward_matches_a_double_reference_on_odd_sizes(int rows, int classes, double weight)
    {
        var random = new Random(rows * 31 + classes);
        float[] logits = Enumerable.Range(0, rows * classes).Select(_ => (float)(4 * random.NextDouble() - 2)).ToArray();
        float[] teacher = Enumerable.Range(0, rows * classes).Select(_ => (float)random.NextDouble()).ToArray();
        int[] targets = Enumerable.Range(0, rows).Select(_ => random.Next(classes)).ToArray();
        double[] expected = new double[rows * classes];
        for (int r = 0; r < rows; r++)
        {
            double max = logits.Skip(r * classes).Take(classes).Max(), sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(logits[r * classes + c] - max);
            for (int c = 0; c < classes; c++)
            {
                int k = r * classes + c;
                double p = Math.Exp(logits[k] - max) / sum;
                expected[k] = 0.3 * (p - (1 - weight) * (c == targets[r] ? 1 : 0) - weight * teacher[k]);
            }
        }

        SoftmaxCrossEntropy.Forward<float>(logits, targets, classes);
        SoftmaxCrossEntropy.Backward<float>(logits, targets, classes, 0.3f, teacher, (float)weight);

        for (int k = 0; k < expected.Length; k++) Assert.Equal(expected[k], logits[k], 5);
    }

    [Fact]
    public void Softmax_cross_entropy_is_stable_for_large_logits_and_matches_a_double_reference()
    {
        float[] logits = [1000f, 1001f, 999f, -1000f];
        double loss = SoftmaxCrossEntropy.Forward<float>(logits, [1], 4);
        double expected = Math.Log(Math.Exp(-1) + 1 + Math.Exp(-2));
        Assert.Equal(expected, loss, 5);
        Assert.Equal(1.0, logits.Sum(), 5);
        Assert.True(logits.All(float.IsFinite));
    }
}
