namespace Dopant.Tests.Models;

/// <summary>Central finite differences in double, compared with an analytic gradient.</summary>
internal static class FiniteDifferences
{
    /// <summary>
    /// For each checked index k of <paramref name="values"/>, compares (L(v + h e_k) − L(v − h e_k)) / 2h with
    /// <paramref name="analytic"/>[k]; fails with the worst relative error when it exceeds <paramref name="tolerance"/>.
    /// </summary>
    public static void Check(string what, double[] values, double[] analytic, Func<double> loss,
        double tolerance = 1e-6, double step = 1e-5, int maxChecks = 400, int seed = 1)
    {
        Assert.Equal(values.Length, analytic.Length);
        var random = new Random(seed);
        IEnumerable<int> indices = values.Length <= maxChecks
            ? Enumerable.Range(0, values.Length)
            : Enumerable.Range(0, maxChecks).Select(_ => random.Next(values.Length));
        double worst = 0;
        int worstIndex = -1;
        double worstNumeric = 0;
        int checkedCount = 0;
        foreach (int k in indices)
        {
            double saved = values[k];
            values[k] = saved + step;
            double plus = loss();
            values[k] = saved - step;
            double minus = loss();
            values[k] = saved;
            double numeric = (plus - minus) / (2 * step);
            double error = Math.Abs(numeric - analytic[k]) / Math.Max(1e-3, Math.Abs(numeric) + Math.Abs(analytic[k]));
            checkedCount++;
            if (error > worst) { worst = error; worstIndex = k; worstNumeric = numeric; }
        }
        Assert.True(checkedCount > 0, $"{what}: nothing was checked.");
        Assert.True(worst <= tolerance,
            $"{what}: worst relative error {worst:E2} at [{worstIndex}]: numeric {worstNumeric:E6}, analytic {(worstIndex >= 0 ? analytic[worstIndex] : 0):E6}.");
    }

    public static double[] RandomArray(Random random, int length, double scale = 1)
    {
        var a = new double[length];
        for (int i = 0; i < length; i++) a[i] = (2 * random.NextDouble() - 1) * scale;
        return a;
    }

    public static void Fill(Random random, double[] target, double scale)
    {
        for (int i = 0; i < target.Length; i++) target[i] = (2 * random.NextDouble() - 1) * scale;
    }
}
