namespace Dopant.Search;

/// <summary>The posterior of a <see cref="GaussianProcess"/>'s latent function at one input, in the outputs' units.</summary>
/// <param name="Mean">The posterior mean.</param>
/// <param name="Variance">The posterior variance of the latent function (without the observation noise); never negative.</param>
public readonly record struct GaussianProcessPrediction(double Mean, double Variance)
{
    /// <summary>√<see cref="Variance"/>.</summary>
    public double StandardDeviation => Math.Sqrt(Variance);

    /// <summary>The upper confidence bound <see cref="Mean"/> + <paramref name="width"/>·<see cref="StandardDeviation"/>.</summary>
    /// <param name="width">How many standard deviations (√β in the GP-UCB literature).</param>
    public double Upper(double width) => Mean + width * StandardDeviation;

    /// <summary>The lower confidence bound <see cref="Mean"/> − <paramref name="width"/>·<see cref="StandardDeviation"/>.</summary>
    /// <param name="width">How many standard deviations.</param>
    public double Lower(double width) => Mean - width * StandardDeviation;
}
