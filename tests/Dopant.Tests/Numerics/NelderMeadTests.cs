using Dopant.Numerics;

namespace Dopant.Tests.Numerics;

public class NelderMeadTests
{
    [Fact]
    public void Minimizes_the_Rosenbrock_function()
    {
        int evaluations = 0;
        double Rosenbrock(double[] p)
        {
            evaluations++;
            return 100 * Math.Pow(p[1] - p[0] * p[0], 2) + Math.Pow(1 - p[0], 2);
        }
        (double[] point, double value) = NelderMead.Minimize(Rosenbrock, [-1.2, 1], step: 0.5, maxEvaluations: 2000, valueTolerance: 1e-14, pointTolerance: 1e-8);
        Assert.Equal(1, point[0], 1e-4);
        Assert.Equal(1, point[1], 1e-4);
        Assert.True(value < 1e-8);
        Assert.True(evaluations <= 2000 + 3);
    }

    [Fact]
    public void A_function_that_returns_NaN_somewhere_is_still_minimized()
    {
        (double[] point, _) = NelderMead.Minimize(p => p[0] < 0 ? double.NaN : (p[0] - 2) * (p[0] - 2) + (p[1] + 1) * (p[1] + 1), [0.5, 0.5], step: 1);
        Assert.Equal(2, point[0], 1e-3);
        Assert.Equal(-1, point[1], 1e-3);
    }
}
