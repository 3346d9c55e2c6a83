using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Tests.Models;

public class GruLayerGradientTests
{
    [Theory]
    [InlineData(1, 1, 3, 2)]
    [InlineData(4, 3, 5, 7)]
    [InlineData(6, 2, 1, 4)]
    [InlineData(3, 5, 9, 3)]
    public void Backward_matches_finite_differences_over_several_steps_with_carried_state(int steps, int batch, int input, int hidden)
    {
        var random = new Random(steps * 100 + batch * 10 + hidden);
        var layer = new GruLayer<double>(0, input, hidden);
        foreach (Parameter<double> p in layer.Parameters) FiniteDifferences.Fill(random, p.Value, 0.6);
        CheckGradients(layer, steps, batch, random);
    }

    [Theory]
    [InlineData("{\"kind\":\"low_rank\",\"rank\":2}", 3, 2, 4, 4)]
    [InlineData("{\"kind\":\"doped\",\"structure\":{\"kind\":\"kronecker\",\"shape\":\"4x2,3x2\",\"rank\":1}}", 3, 2, 5, 4)]
    public void Compressed_recurrent_matrices_backward_matches_finite_differences(string form, int steps, int batch, int input, int hidden)
    {
        var random = new Random(input * 10 + hidden);
        var layer = new GruLayer<double>(0, input, hidden);
        IWeightMatrix<double> recurrent = WeightForms.Create<double>(WeightFormSpec.Parse(form), layer.RecurrentWeightsName, 3 * hidden, hidden);
        layer.ReplaceWeights(layer.InputWeights, recurrent);
        foreach (Parameter<double> p in layer.Parameters) FiniteDifferences.Fill(random, p.Value, 0.6);
        foreach (PrunedMatrix<double> pruned in WeightForms.PrunedParts(recurrent)) pruned.PruneToSparsity(0.5);
        CheckGradients(layer, steps, batch, random);
    }

    [Fact]
    public void Forward_matches_a_scalar_reference_of_the_pytorch_equations()
    {
        var random = new Random(5);
        int steps = 3, batch = 2, input = 4, hidden = 3;
        var layer = new GruLayer<double>(0, input, hidden);
        foreach (Parameter<double> p in layer.Parameters) FiniteDifferences.Fill(random, p.Value, 0.8);
        double[] x = FiniteDifferences.RandomArray(random, steps * batch * input);
        double[] h = FiniteDifferences.RandomArray(random, batch * hidden);
        layer.Forward(x, h, [], steps, batch);
        double[] wih = ((DenseMatrix<double>)layer.InputWeights).Weight.Value, whh = ((DenseMatrix<double>)layer.RecurrentWeights).Weight.Value;
        for (int t = 0; t < steps; t++)
        {
            var hNext = new double[h.Length];
            for (int b = 0; b < batch; b++)
                for (int j = 0; j < hidden; j++)
                {
                    double InputPart(int gate)
                    {
                        int row = gate * hidden + j;
                        double s = layer.InputBias.Value[row];
                        for (int k = 0; k < input; k++) s += wih[row * input + k] * x[(t * batch + b) * input + k];
                        return s;
                    }
                    double RecurrentPart(int gate)
                    {
                        int row = gate * hidden + j;
                        double s = layer.RecurrentBias.Value[row];
                        for (int k = 0; k < hidden; k++) s += whh[row * hidden + k] * h[b * hidden + k];
                        return s;
                    }
                    double r = Sigmoid(InputPart(0) + RecurrentPart(0)), z = Sigmoid(InputPart(1) + RecurrentPart(1));
                    double n = Math.Tanh(InputPart(2) + r * RecurrentPart(2));
                    hNext[b * hidden + j] = (1 - z) * n + z * h[b * hidden + j];
                }
            h = hNext;
            for (int k = 0; k < batch * hidden; k++)
                Assert.Equal(h[k], layer.Output[t * batch * hidden + k], 12);
        }
        Assert.Equal(h, layer.FinalHidden.ToArray(), new ToleranceComparer(1e-12));
        Assert.True(layer.FinalCell.IsEmpty);
    }

    [Fact]
    public void Matrices_of_lstm_shapes_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new GruLayer<double>(0, new DenseMatrix<double>("a", 16, 3), new DenseMatrix<double>("b", 16, 4)));
        Assert.Contains("3H × H", e.Message);
    }

    private static void CheckGradients(GruLayer<double> layer, int steps, int batch, Random random)
    {
        int input = layer.InputSize, hidden = layer.HiddenSize;
        double[] x = FiniteDifferences.RandomArray(random, steps * batch * input);
        double[] h0 = FiniteDifferences.RandomArray(random, batch * hidden, 0.5);
        // L = <wOut, h_1..T> + <wH, h_T>: the output path and the state carried out of the window.
        double[] wOut = FiniteDifferences.RandomArray(random, steps * batch * hidden);
        double[] wH = FiniteDifferences.RandomArray(random, batch * hidden);

        double Loss()
        {
            layer.Forward(x, h0, [], steps, batch);
            return Dot(wOut, layer.Output) + Dot(wH, layer.FinalHidden);
        }

        Loss();
        foreach (Parameter<double> p in layer.Parameters) p.ZeroGradient();
        var dx = new double[x.Length];
        var dh0 = new double[h0.Length];
        layer.Backward(x, wOut, dx, wH, [], dh0, []);

        foreach (Parameter<double> p in layer.Parameters)
            FiniteDifferences.Check(p.Name, p.Value, (double[])p.Gradient.Clone(), Loss);
        FiniteDifferences.Check("x", x, dx, Loss);
        FiniteDifferences.Check("h0", h0, dh0, Loss);
    }

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    private static double Dot(double[] a, ReadOnlySpan<double> b)
    {
        Assert.Equal(a.Length, b.Length);
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
