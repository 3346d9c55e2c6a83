namespace Dopant.Search;

/// <summary>
/// The box in which <see cref="GaussianProcess.Fit"/> looks for the hyper-parameters that maximize the log marginal
/// likelihood, in the process's working units (see <see cref="GaussianProcessHyperparameters"/>). The defaults suit a
/// handful of samples of a smooth curve over the domain: a length scale from 3% to 3 domain widths, a signal variance
/// from 1/20 to 20 times the outputs' variance, and noise from 10⁻⁶ (a floor that keeps the covariance matrix well
/// conditioned when a curve is sampled without noise) to a quarter of the outputs' variance. The noise ceiling matters:
/// a handful of samples of a wiggly function is explained about as well by noise alone, and a process that calls
/// everything noise is certain everywhere, so a search guided by it stops exploring.
/// </summary>
public sealed record GaussianProcessFitOptions
{
    /// <summary>The default options.</summary>
    public static GaussianProcessFitOptions Default { get; } = new();

    /// <summary>The smallest length scale, as a fraction of the domain's width.</summary>
    public double MinLengthScale { get; init; } = 0.03;

    /// <summary>The largest length scale, as a fraction of the domain's width.</summary>
    public double MaxLengthScale { get; init; } = 3;

    /// <summary>The smallest signal variance.</summary>
    public double MinSignalVariance { get; init; } = 0.05;

    /// <summary>The largest signal variance.</summary>
    public double MaxSignalVariance { get; init; } = 20;

    /// <summary>The smallest noise variance: the noise floor.</summary>
    public double MinNoiseVariance { get; init; } = 1e-6;

    /// <summary>The largest noise variance.</summary>
    public double MaxNoiseVariance { get; init; } = 0.25;

    /// <summary>Whether outputs are standardized before fitting (see <see cref="GaussianProcess.OutputScale"/>); true by default.</summary>
    public bool StandardizeOutputs { get; init; } = true;

    /// <summary>Throws unless every bound is finite and positive and each minimum is at most its maximum.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A bound is invalid.</exception>
    public void Validate()
    {
        Check(MinLengthScale, MaxLengthScale, nameof(MinLengthScale));
        Check(MinSignalVariance, MaxSignalVariance, nameof(MinSignalVariance));
        Check(MinNoiseVariance, MaxNoiseVariance, nameof(MinNoiseVariance));

        static void Check(double min, double max, string name)
        {
            if (!(double.IsFinite(min) && double.IsFinite(max) && min > 0 && min <= max))
                throw new ArgumentOutOfRangeException(name, FormattableString.Invariant($"Hyper-parameter bounds must be finite, positive and ordered, got [{min}, {max}]."));
        }
    }
}
