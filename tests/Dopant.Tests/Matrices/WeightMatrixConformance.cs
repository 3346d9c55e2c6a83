using System.Numerics;
using Dopant.Matrices;
using Dopant.Tests.Models;

namespace Dopant.Tests.Matrices;

/// <summary>
/// Checks any <see cref="IWeightMatrix{T}"/> against its own <see cref="IWeightMatrix{T}.ToDense"/>: the passes must equal
/// the dense products x·Wᵀ and dy·W, and the parameter gradients must match central finite differences of
/// L = Σ y∘G.
/// </summary>
internal static class WeightMatrixConformance
{
    /// <summary>Counts that cover one sample, a few, and an odd number past any blocking.</summary>
    public static readonly int[] Counts = [1, 5, 17];

    /// <summary>Fills every parameter with values uniform in [−scale, scale).</summary>
    public static void Randomize<T>(IWeightMatrix<T> matrix, int seed, double scale = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        foreach (Parameter<T> p in matrix.Parameters)
            for (int k = 0; k < p.Value.Length; k++) p.Value[k] = T.CreateChecked((2 * random.NextDouble() - 1) * scale);
    }

    /// <summary>
    /// Forward and BackwardInput, with and without accumulation, equal x·Wᵀ and dy·W computed in double from the same
    /// <typeparamref name="T"/> inputs, to within <paramref name="tolerance"/> × max(1, largest |reference|).
    /// </summary>
    public static void PassesMatchDense<T>(IWeightMatrix<T> matrix, int count, bool accumulate, int seed, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        int m = matrix.Rows, n = matrix.Columns;
        double[] w = ToDouble(matrix.ToDense());
        Assert.Equal((long)m * n, w.Length);

        T[] x = RandomValues<T>(random, count * n);
        T[] y = RandomValues<T>(random, count * m);
        double[]? initialY = accumulate ? ToDouble(y) : null;
        matrix.Forward(x, y, count, accumulate);
        AssertClose("Forward", Product(ToDouble(x), w, count, m, n, transposeW: true, initialY), ToDouble(y), tolerance);

        T[] dy = RandomValues<T>(random, count * m);
        T[] dx = RandomValues<T>(random, count * n);
        double[]? initialDx = accumulate ? ToDouble(dx) : null;
        matrix.BackwardInput(dy, dx, count, accumulate);
        AssertClose("BackwardInput", Product(ToDouble(dy), w, count, n, m, transposeW: false, initialDx), ToDouble(dx), tolerance);
    }

    /// <summary>
    /// With L = Σ y∘G and y = x·Wᵀ: every parameter gradient and dx = G·W match central differences, and a second
    /// AccumulateGradients call adds the same amount again.
    /// </summary>
    public static void GradientsMatchFiniteDifferences(IWeightMatrix<double> matrix, int count, int seed)
    {
        var random = new Random(seed);
        int m = matrix.Rows, n = matrix.Columns;
        double[] x = FiniteDifferences.RandomArray(random, count * n);
        double[] g = FiniteDifferences.RandomArray(random, count * m);
        var y = new double[count * m];
        double Loss()
        {
            matrix.Forward(x, y, count, accumulate: false);
            double sum = 0;
            for (int k = 0; k < y.Length; k++) sum += y[k] * g[k];
            return sum;
        }

        foreach (Parameter<double> p in matrix.Parameters) p.ZeroGradient();
        matrix.AccumulateGradients(x, g, count);
        foreach (Parameter<double> p in matrix.Parameters.Where(p => p.Length > 0)) // hybrid blocks may be empty
            FiniteDifferences.Check(p.Name, p.Value, (double[])p.Gradient.Clone(), Loss, tolerance: 1e-6);

        var once = matrix.Parameters.Select(p => (double[])p.Gradient.Clone()).ToArray();
        matrix.AccumulateGradients(x, g, count);
        for (int i = 0; i < once.Length; i++)
        {
            double[] twice = matrix.Parameters[i].Gradient;
            for (int k = 0; k < twice.Length; k++) Assert.Equal(2 * once[i][k], twice[k], 1e-12);
        }

        var dx = new double[count * n];
        matrix.BackwardInput(g, dx, count, accumulate: false);
        FiniteDifferences.Check("x", x, dx, Loss, tolerance: 1e-6);
    }

    /// <summary>C [count × outWidth] = A [count × k] · op(W) (+ initial), op(W) = Wᵀ for W [outWidth × k], else W for W [k × outWidth].</summary>
    public static double[] Product(double[] a, double[] w, int count, int outWidth, int k, bool transposeW, double[]? initial)
    {
        var c = initial is null ? new double[count * outWidth] : (double[])initial.Clone();
        for (int b = 0; b < count; b++)
            for (int j = 0; j < outWidth; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++) sum += a[b * k + p] * (transposeW ? w[j * k + p] : w[p * outWidth + j]);
                c[b * outWidth + j] += sum;
            }
        return c;
    }

    public static T[] RandomValues<T>(Random random, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = new T[length];
        for (int k = 0; k < length; k++) a[k] = T.CreateChecked(2 * random.NextDouble() - 1);
        return a;
    }

    public static double[] ToDouble<T>(T[] values) where T : unmanaged, IFloatingPointIeee754<T> =>
        values.Select(double.CreateChecked).ToArray();

    /// <summary>Every |expected − actual| ≤ tolerance × max(1, max |expected|).</summary>
    public static void AssertClose(string what, double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1, expected.Length == 0 ? 0 : expected.Max(Math.Abs));
        for (int k = 0; k < expected.Length; k++)
        {
            double error = Math.Abs(expected[k] - actual[k]);
            Assert.True(error <= tolerance * scale,
                $"{what}: element {k} is {actual[k]:R}, expected {expected[k]:R} (error {error:E2}, allowed {tolerance * scale:E2}).");
        }
    }
}
