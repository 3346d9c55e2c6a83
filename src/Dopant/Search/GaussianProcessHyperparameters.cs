namespace Dopant.Search;

/// <summary>
/// The hyper-parameters of a <see cref="GaussianProcess"/> with a <see cref="Matern52Kernel"/>, in the process's
/// working units: inputs scaled to [0, 1] by the search domain, and outputs standardized (minus their mean, over their
/// standard deviation) unless the process was built without standardization.
/// </summary>
/// <param name="LengthScale">ℓ, as a fraction of the domain's width.</param>
/// <param name="SignalVariance">s², the prior variance of the latent function (1 is the outputs' own variance).</param>
/// <param name="NoiseVariance">σn², the variance of the observation noise added to the diagonal.</param>
public sealed record GaussianProcessHyperparameters(double LengthScale, double SignalVariance, double NoiseVariance)
{
    /// <summary>The kernel these hyper-parameters define.</summary>
    public Matern52Kernel Kernel => new(LengthScale, SignalVariance);

    /// <summary>Throws unless every hyper-parameter is finite and positive.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is not finite or not positive.</exception>
    public void Validate()
    {
        if (!(double.IsFinite(LengthScale) && LengthScale > 0)) throw new ArgumentOutOfRangeException(nameof(LengthScale), LengthScale, "The length scale must be finite and positive.");
        if (!(double.IsFinite(SignalVariance) && SignalVariance > 0)) throw new ArgumentOutOfRangeException(nameof(SignalVariance), SignalVariance, "The signal variance must be finite and positive.");
        if (!(double.IsFinite(NoiseVariance) && NoiseVariance > 0)) throw new ArgumentOutOfRangeException(nameof(NoiseVariance), NoiseVariance, "The noise variance must be finite and positive.");
    }
}
