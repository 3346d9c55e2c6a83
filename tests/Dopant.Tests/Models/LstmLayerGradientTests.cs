using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Tests.Models;

public class LstmLayerGradientTests
{
    [Theory]
    [InlineData(1, 1, 3, 2)]
    [InlineData(4, 3, 5, 7)]
    [InlineData(6, 2, 1, 4)]
    public void Backward_matches_finite_differences_over_several_steps_with_carried_state(int steps, int batch, int input, int hidden)
    {
        var random = new Random(steps * 100 + batch * 10 + hidden);
        var layer = new LstmLayer<double>(0, input, hidden);
        foreach (Parameter<double> p in layer.Parameters) FiniteDifferences.Fill(random, p.Value, 0.6);
        CheckGradients(layer, steps, batch, random);
    }

    [Theory]
    [InlineData("{\"kind\":\"dense\"}", 4, 3, 5, 3)]
    [InlineData("{\"kind\":\"low_rank\",\"rank\":2}", 3, 2, 4, 3)]
    [InlineData("{\"kind\":\"doped\",\"structure\":{\"kind\":\"kronecker\",\"shape\":\"4x2,3x4\",\"rank\":1}}", 3, 2, 5, 3)]
    public void A_combined_matrix_backward_matches_finite_differences(string form, int steps, int batch, int input, int hidden)
    {
        var random = new Random(input * 10 + hidden);
        var layer = new LstmLayer<double>(0, input, hidden);
        IWeightMatrix<double> combined = WeightForms.Create<double>(WeightFormSpec.Parse(form), layer.CombinedWeightsName, 4 * hidden, input + hidden);
        layer.CombineWeights(combined);
        foreach (Parameter<double> p in layer.Parameters) FiniteDifferences.Fill(random, p.Value, 0.6);
        foreach (PrunedMatrix<double> pruned in WeightForms.PrunedParts(combined)) pruned.PruneToSparsity(0.5);
        Assert.Equal([layer.CombinedWeightsName], layer.WeightMatrices.Select(m => m.Name));
        Assert.Throws<InvalidOperationException>(() => layer.InputWeights);
        CheckGradients(layer, steps, batch, random);
    }

    [Fact]
    public void A_combined_dense_matrix_computes_what_the_separate_matrices_do()
    {
        var random = new Random(11);
        int steps = 5, batch = 3, input = 4, hidden = 6;
        var separate = new LstmLayer<double>(0, input, hidden);
        foreach (Parameter<double> p in separate.Parameters) FiniteDifferences.Fill(random, p.Value, 0.5);
        var combined = new LstmLayer<double>(0, input, hidden);
        double[] joined = separate.CombinedDense();
        var dense = new DenseMatrix<double>(combined.CombinedWeightsName, 4 * hidden, input + hidden);
        joined.CopyTo(dense.Weight.Value, 0);
        combined.CombineWeights(dense);
        separate.InputBias.Value.CopyTo(combined.InputBias.Value, 0);
        separate.RecurrentBias.Value.CopyTo(combined.RecurrentBias.Value, 0);
        Assert.Equal(joined, combined.CombinedDense());

        double[] x = FiniteDifferences.RandomArray(random, steps * batch * input);
        double[] h0 = FiniteDifferences.RandomArray(random, batch * hidden, 0.5), c0 = FiniteDifferences.RandomArray(random, batch * hidden, 0.5);
        double[] dOut = FiniteDifferences.RandomArray(random, steps * batch * hidden), dh = FiniteDifferences.RandomArray(random, batch * hidden);
        var results = new List<double[]>();
        foreach (LstmLayer<double> layer in new[] { separate, combined })
        {
            layer.Forward(x, h0, c0, steps, batch);
            var dx = new double[x.Length];
            var dh0 = new double[h0.Length];
            layer.Backward(x, dOut, dx, dh, [], dh0, []);
            var gradient = new double[4 * hidden * (input + hidden)];
            if (layer.CombinedWeights is null)
                for (int r = 0; r < 4 * hidden; r++)
                {
                    ((DenseMatrix<double>)layer.InputWeights).Weight.Gradient.AsSpan(r * input, input).CopyTo(gradient.AsSpan(r * (input + hidden)));
                    ((DenseMatrix<double>)layer.RecurrentWeights).Weight.Gradient.AsSpan(r * hidden, hidden).CopyTo(gradient.AsSpan(r * (input + hidden) + input));
                }
            else
                dense.Weight.Gradient.CopyTo(gradient, 0);
            results.Add([.. layer.Output, .. layer.FinalCell, .. dx, .. dh0, .. gradient, .. layer.InputBias.Gradient]);
        }
        Assert.Equal(results[0], results[1], new ToleranceComparer(1e-12));
    }

    [Fact]
    public void A_combined_matrix_of_the_wrong_shape_is_refused()
    {
        var layer = new LstmLayer<double>(0, 4, 3);
        var e = Assert.Throws<ArgumentException>(() => layer.CombineWeights(new DenseMatrix<double>("w", 12, 6)));
        Assert.Contains("12 × 7", e.Message);
    }

    private static void CheckGradients(LstmLayer<double> layer, int steps, int batch, Random random)
    {
        int input = layer.InputSize, hidden = layer.HiddenSize;
        double[] x = FiniteDifferences.RandomArray(random, steps * batch * input);
        double[] h0 = FiniteDifferences.RandomArray(random, batch * hidden, 0.5);
        double[] c0 = FiniteDifferences.RandomArray(random, batch * hidden, 0.5);
        // L = <wOut, h_1..T> + <wH, h_T> + <wC, c_T>: exercises the output path and the state carried out of the window.
        double[] wOut = FiniteDifferences.RandomArray(random, steps * batch * hidden);
        double[] wH = FiniteDifferences.RandomArray(random, batch * hidden);
        double[] wC = FiniteDifferences.RandomArray(random, batch * hidden);

        double Loss()
        {
            layer.Forward(x, h0, c0, steps, batch);
            return Dot(wOut, layer.Output) + Dot(wH, layer.FinalHidden) + Dot(wC, layer.FinalCell);
        }

        Loss();
        foreach (Parameter<double> p in layer.Parameters) p.ZeroGradient();
        var dx = new double[x.Length];
        var dh0 = new double[h0.Length];
        var dc0 = new double[c0.Length];
        layer.Backward(x, wOut, dx, wH, wC, dh0, dc0);

        foreach (Parameter<double> p in layer.Parameters)
            FiniteDifferences.Check(p.Name, p.Value, (double[])p.Gradient.Clone(), Loss);
        FiniteDifferences.Check("x", x, dx, Loss);
        FiniteDifferences.Check("h0", h0, dh0, Loss);
        FiniteDifferences.Check("c0", c0, dc0, Loss);
    }

    [Fact]
    public void Forward_matches_a_scalar_reference_of_the_pytorch_equations()
    {
        var random = new Random(5);
        int steps = 3, batch = 2, input = 4, hidden = 3;
        var layer = new LstmLayer<double>(0, input, hidden);
        foreach (Parameter<double> p in layer.Parameters) FiniteDifferences.Fill(random, p.Value, 0.8);
        double[] x = FiniteDifferences.RandomArray(random, steps * batch * input);
        double[] h = FiniteDifferences.RandomArray(random, batch * hidden);
        double[] c = FiniteDifferences.RandomArray(random, batch * hidden);
        layer.Forward(x, h, c, steps, batch);
        double[] wih = ((DenseMatrix<double>)layer.InputWeights).Weight.Value, whh = ((DenseMatrix<double>)layer.RecurrentWeights).Weight.Value;
        for (int t = 0; t < steps; t++)
        {
            var hNext = new double[h.Length];
            var cNext = new double[c.Length];
            for (int b = 0; b < batch; b++)
                for (int j = 0; j < hidden; j++)
                {
                    double Gate(int gate)
                    {
                        int row = gate * hidden + j;
                        double s = layer.InputBias.Value[row] + layer.RecurrentBias.Value[row];
                        for (int k = 0; k < input; k++) s += wih[row * input + k] * x[(t * batch + b) * input + k];
                        for (int k = 0; k < hidden; k++) s += whh[row * hidden + k] * h[b * hidden + k];
                        return s;
                    }
                    double i = Sigmoid(Gate(0)), f = Sigmoid(Gate(1)), g = Math.Tanh(Gate(2)), o = Sigmoid(Gate(3));
                    cNext[b * hidden + j] = f * c[b * hidden + j] + i * g;
                    hNext[b * hidden + j] = o * Math.Tanh(cNext[b * hidden + j]);
                }
            h = hNext; c = cNext;
            for (int k = 0; k < batch * hidden; k++)
                Assert.Equal(h[k], layer.Output[t * batch * hidden + k], 12);
        }
        Assert.Equal(c, layer.FinalCell.ToArray(), new ToleranceComparer(1e-12));
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

internal sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
{
    public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Abs(x));
    public int GetHashCode(double obj) => 0;
}
