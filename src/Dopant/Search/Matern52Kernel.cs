namespace Dopant.Search;

/// <summary>
/// The Matérn covariance with smoothness ν = 5/2: k(r) = s²·(1 + √5·r/ℓ + 5r²/(3ℓ²))·exp(−√5·r/ℓ) for inputs a
/// distance r apart (Rasmussen and Williams, Gaussian Processes for Machine Learning, 2006, eq. 4.17). Its sample
/// functions are twice differentiable: smooth enough for accuracy and speed curves, less rigid than the squared
/// exponential.
/// </summary>
/// <param name="LengthScale">ℓ &gt; 0, in the units of r.</param>
/// <param name="SignalVariance">s² &gt; 0: the prior variance k(0).</param>
public readonly record struct Matern52Kernel(double LengthScale, double SignalVariance)
{
    private static readonly double Sqrt5 = Math.Sqrt(5);

    /// <summary>k(r) for two inputs a distance <paramref name="distance"/> apart.</summary>
    /// <param name="distance">r ≥ 0 (its sign is ignored).</param>
    public double Covariance(double distance)
    {
        double scaled = Sqrt5 * Math.Abs(distance) / LengthScale;
        return SignalVariance * (1 + scaled + scaled * scaled / 3) * Math.Exp(-scaled);
    }

    /// <summary>k(|a − b|).</summary>
    /// <param name="a">One input.</param>
    /// <param name="b">The other input.</param>
    public double Covariance(double a, double b) => Covariance(a - b);
}
