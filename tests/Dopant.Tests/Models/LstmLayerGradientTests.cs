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
