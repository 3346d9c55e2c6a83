namespace Dopant.Numerics;

/// <summary>
/// Derivative-free minimization of a function of a few variables by the Nelder–Mead simplex method, with the standard
/// coefficients (reflection 1, expansion 2, contraction ½, shrink ½) and the ordering and tie-breaking rules of
/// Lagarias, Reeds, Wright and Wright, "Convergence properties of the Nelder–Mead simplex method in low dimensions"
/// (SIAM J. Optim. 9(1), 1998), which make the method deterministic.
/// </summary>
internal static class NelderMead
{
    /// <summary>
    /// A local minimizer of <paramref name="function"/> from <paramref name="start"/>, whose initial simplex steps
    /// <paramref name="step"/> along each axis. Stops when the simplex's values span at most
    /// <paramref name="valueTolerance"/> and its vertices lie within <paramref name="pointTolerance"/> of the best
    /// (in every coordinate), or after <paramref name="maxEvaluations"/> evaluations. Returns the best vertex and its value.
    /// </summary>
    public static (double[] Point, double Value) Minimize(Func<double[], double> function, double[] start, double step,
        int maxEvaluations = 400, double valueTolerance = 1e-9, double pointTolerance = 1e-6)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(start);
        int n = start.Length;
        var points = new double[n + 1][];
        var values = new double[n + 1];
        int evaluations = 0;
        double Evaluate(double[] x)
        {
            evaluations++;
            double value = function(x);
            // A failed evaluation (NaN) must lose every comparison, never win one.
            return double.IsNaN(value) ? double.PositiveInfinity : value;
        }

        for (int i = 0; i <= n; i++)
        {
            points[i] = (double[])start.Clone();
            if (i > 0) points[i][i - 1] += step;
            values[i] = Evaluate(points[i]);
        }
        var order = new int[n + 1];
        var centroid = new double[n];
        while (true)
        {
            // A stable sort by value: among equal values the vertex that was there longer stays ahead.
            for (int i = 0; i <= n; i++) order[i] = i;
            Array.Sort(order, (a, b) => values[a] != values[b] ? values[a].CompareTo(values[b]) : a.CompareTo(b));
            int best = order[0], worst = order[n], secondWorst = order[n - 1];
            if (evaluations >= maxEvaluations || Converged(points, values, best, valueTolerance, pointTolerance)) break;

            Array.Clear(centroid);
            for (int r = 0; r < n; r++)
                for (int d = 0; d < n; d++) centroid[d] += points[order[r]][d] / n;

            double[] reflected = Along(centroid, points[worst], -1);
            double reflectedValue = Evaluate(reflected);
            if (reflectedValue < values[best])
            {
                double[] expanded = Along(centroid, points[worst], -2);
                double expandedValue = Evaluate(expanded);
                if (expandedValue < reflectedValue) Replace(worst, expanded, expandedValue);
                else Replace(worst, reflected, reflectedValue);
            }
            else if (reflectedValue < values[secondWorst]) Replace(worst, reflected, reflectedValue);
            else
            {
                bool outside = reflectedValue < values[worst];
                double[] contracted = outside ? Along(centroid, points[worst], -0.5) : Along(centroid, points[worst], 0.5);
                double contractedValue = Evaluate(contracted);
                if (contractedValue < (outside ? reflectedValue : values[worst])) Replace(worst, contracted, contractedValue);
                else
                {
                    for (int i = 0; i <= n; i++)
                    {
                        if (i == best) continue;
                        for (int d = 0; d < n; d++) points[i][d] = points[best][d] + 0.5 * (points[i][d] - points[best][d]);
                        values[i] = Evaluate(points[i]);
                    }
                }
            }
        }
        return (points[order[0]], values[order[0]]);

        void Replace(int index, double[] point, double value)
        {
            points[index] = point;
            values[index] = value;
        }
    }

    /// <summary>centroid + t·(vertex − centroid): t = −1 reflects the vertex, −2 expands, ±½ contracts.</summary>
    private static double[] Along(double[] centroid, double[] vertex, double t)
    {
        var point = new double[centroid.Length];
        for (int d = 0; d < point.Length; d++) point[d] = centroid[d] + t * (vertex[d] - centroid[d]);
        return point;
    }

    private static bool Converged(double[][] points, double[] values, int best, double valueTolerance, double pointTolerance)
    {
        for (int i = 0; i < points.Length; i++)
        {
            if (Math.Abs(values[i] - values[best]) > valueTolerance) return false;
            for (int d = 0; d < points[i].Length; d++)
                if (Math.Abs(points[i][d] - points[best][d]) > pointTolerance) return false;
        }
        return true;
    }
}
