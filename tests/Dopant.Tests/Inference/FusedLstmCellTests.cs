using System.Runtime.Intrinsics;
using Dopant.Inference;

namespace Dopant.Tests.Inference;

/// <summary>The fused cell update against the LSTM equations in double, on sizes with and without a vector tail.</summary>
public class FusedLstmCellTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(200)]
    public void The_update_matches_a_double_reference(int n)
    {
        var random = new Random(n);
        float[] gates = [.. Enumerable.Range(0, 4 * n).Select(k => (float)((random.NextDouble() * 2 - 1) * (k % 5 == 0 ? 40 : 4)))];
        float[] c = [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 6 - 3))];
        float[] h = new float[n];
        if (n > 2) (gates[0], gates[n + 1], gates[2 * n + 2]) = (-100f, 100f, 1e-6f);
        double[] expectedC = new double[n], expectedH = new double[n];
        for (int k = 0; k < n; k++)
        {
            double i = Sigmoid(gates[k]), f = Sigmoid(gates[n + k]), g = Math.Tanh(gates[2 * n + k]), o = Sigmoid(gates[3 * n + k]);
            expectedC[k] = f * c[k] + i * g;
            expectedH[k] = o * Math.Tanh(expectedC[k]);
        }
        FusedLstmCell.Update(gates, c, h);
        for (int k = 0; k < n; k++)
        {
            Assert.True(Math.Abs(c[k] - expectedC[k]) <= 1e-6 * (1 + Math.Abs(expectedC[k])), $"c[{k}] = {c[k]}, expected {expectedC[k]}");
            Assert.True(Math.Abs(h[k] - expectedH[k]) <= 1e-6, $"h[{k}] = {h[k]}, expected {expectedH[k]}");
        }
    }

    [Fact]
    public void The_vector_exponential_is_within_two_float_steps_of_the_double_one()
    {
        // Every 0.37th point of [-87, 88] and the clamp ends; outside them the result is that of the nearest end.
        List<float> points = [-87f, 88f, 0f, -1e-7f, 1e-7f];
        for (float x = -87f; x < 88f; x += 0.37f) points.Add(x);
        while (points.Count % 16 != 0) points.Add(0.5f);
        for (int k = 0; k < points.Count; k += 16)
        {
            float[] x = [.. points.Skip(k).Take(16)];
            Vector512<float> wide = FusedLstmCell.Exp(Vector512.Create(x));
            Vector256<float> narrow = FusedLstmCell.Exp(Vector256.Create(x.AsSpan(0, 8)));
            for (int lane = 0; lane < 16; lane++)
            {
                double expected = Math.Exp(x[lane]);
                Assert.True(Math.Abs(wide[lane] - expected) <= 2.4e-7 * expected, $"Exp({x[lane]}) = {wide[lane]}, expected {expected}");
                if (lane < 8) Assert.True(Math.Abs(narrow[lane] - expected) <= 2.4e-7 * expected, $"Exp({x[lane]}) = {narrow[lane]} (256-bit)");
            }
        }
        Assert.Equal(MathF.Exp(88f), FusedLstmCell.Exp(Vector512.Create(500f))[0], 1e31f);
    }

    [Fact]
    public void Short_buffers_are_refused() =>
        Assert.Throws<ArgumentException>(() => FusedLstmCell.Update(new float[7], new float[2], new float[2]));

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
