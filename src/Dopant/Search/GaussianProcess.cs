using Dopant.Numerics;

namespace Dopant.Search;

/// <summary>
/// Gaussian-process regression of a scalar function of the level, with a zero-mean prior, a
/// <see cref="Matern52Kernel"/> and Gaussian observation noise, conditioned on samples (x_i, y_i). Inputs are scaled
/// to [0, 1] by the <see cref="Domain"/>; outputs are standardized (see <see cref="OutputMean"/> and
/// <see cref="OutputScale"/>), so hyper-parameters mean the same for a perplexity near 100 as for a speed-up near 2.
/// The posterior follows Rasmussen and Williams, Gaussian Processes for Machine Learning (2006), Algorithm 2.1: with
/// L = chol(K + σn²I) and α = Lᵀ \ (L \ y), the mean at x is k*ᵀα, the variance k(x, x) − vᵀv with v = L \ k*, and the
/// log marginal likelihood −½yᵀα − Σ log L_ii − (n/2)·log 2π (eq. 2.30).
/// </summary>
/// <remarks>
/// The inputs are one-dimensional, as the level of a compression scheme is; only the kernel's distance would change
/// for vectors of levels.
/// </remarks>
public sealed class GaussianProcess
{
    // Below 3 samples the likelihood cannot tell length scales apart (2 standardized samples are ±1 whatever their
    // distance), so Fit takes a prior guess instead: half the domain, the outputs' own variance, the noise floor.
    private const int MinSamplesToFit = 3;
    private const double FewSamplesLengthScale = 0.5;
    private const int GridLengthScales = 9, GridSignalVariances = 5, GridNoiseVariances = 7;
    private static readonly double LogTwoPi = Math.Log(2 * Math.PI);

    private readonly double[] _unitInputs;
    private readonly double[] _alpha;
    private readonly CholeskyFactor _factor;
    private readonly Matern52Kernel _kernel;

    private GaussianProcess(SearchDomain domain, double[] inputs, double[] outputs, double outputMean, double outputScale,
        GaussianProcessHyperparameters hyperparameters, Posterior posterior)
    {
        Domain = domain;
        Inputs = inputs;
        Outputs = outputs;
        OutputMean = outputMean;
        OutputScale = outputScale;
        Hyperparameters = hyperparameters;
        _unitInputs = posterior.UnitInputs;
        _alpha = posterior.Alpha;
        _factor = posterior.Factor;
        _kernel = hyperparameters.Kernel;
        LogMarginalLikelihood = posterior.LogMarginalLikelihood;
    }

    /// <summary>The domain that scales the inputs to [0, 1].</summary>
    public SearchDomain Domain { get; }

    /// <summary>The sampled inputs x_i, as given.</summary>
    public IReadOnlyList<double> Inputs { get; }

    /// <summary>The sampled outputs y_i, as given.</summary>
    public IReadOnlyList<double> Outputs { get; }

    /// <summary>The hyper-parameters, in working units (see <see cref="GaussianProcessHyperparameters"/>).</summary>
    public GaussianProcessHyperparameters Hyperparameters { get; }

    /// <summary>
    /// The mean of the outputs, subtracted before conditioning, so far from every sample the posterior mean returns to
    /// it; 0 without standardization.
    /// </summary>
    public double OutputMean { get; }

    /// <summary>
    /// What the centred outputs are divided by: their standard deviation (over n, not n − 1). When that is zero (one
    /// sample, or all outputs equal) it is |<see cref="OutputMean"/>|, or 1 if that is zero too, so the prior stays as
    /// wide as the values themselves. 1 without standardization.
    /// </summary>
    public double OutputScale { get; }

    /// <summary>
    /// log p(y | x, hyper-parameters) of the working-unit outputs (y_i − <see cref="OutputMean"/>) /
    /// <see cref="OutputScale"/>; the density of the original outputs is this minus n·log <see cref="OutputScale"/>.
    /// </summary>
    public double LogMarginalLikelihood { get; }

    /// <summary>
    /// The process conditioned on the samples with the hyper-parameters that maximize the log marginal likelihood
    /// (type-II maximum likelihood) within <paramref name="options"/>' bounds: the best point of a log-spaced grid
    /// (9 length scales × 5 signal variances × 7 noise variances), refined by Nelder–Mead in log space. Deterministic.
    /// With fewer than 3 samples the likelihood says nothing about the length scale, and the hyper-parameters are
    /// ℓ = 0.5, s² = 1 and the noise floor, clamped to the bounds.
    /// </summary>
    /// <param name="domain">Scales the inputs to [0, 1].</param>
    /// <param name="inputs">The sampled levels (finite).</param>
    /// <param name="outputs">The sampled values (finite), one per input.</param>
    /// <param name="options">The hyper-parameters' bounds and whether to standardize outputs; <see cref="GaussianProcessFitOptions.Default"/> if null.</param>
    /// <exception cref="ArgumentException">No samples, different counts, or a value that is not finite.</exception>
    public static GaussianProcess Fit(SearchDomain domain, IReadOnlyList<double> inputs, IReadOnlyList<double> outputs,
        GaussianProcessFitOptions? options = null)
    {
        options ??= GaussianProcessFitOptions.Default;
        options.Validate();
        (double[] x, double[] y) = CheckedSamples(domain, inputs, outputs);
        (double mean, double scale, double[] working) = Standardize(y, options.StandardizeOutputs);
        double[] unit = [.. x.Select(domain.ToUnit)];

        GaussianProcessHyperparameters hyperparameters;
        if (x.Length < MinSamplesToFit)
        {
            hyperparameters = new GaussianProcessHyperparameters(
                Math.Clamp(FewSamplesLengthScale, options.MinLengthScale, options.MaxLengthScale),
                Math.Clamp(1, options.MinSignalVariance, options.MaxSignalVariance),
                options.MinNoiseVariance);
        }
        else hyperparameters = MaximumLikelihood(unit, working, options);
        Posterior posterior = Condition(unit, working, hyperparameters)
            ?? throw new InvalidOperationException("The covariance matrix is not positive definite even with added jitter.");
        return new GaussianProcess(domain, x, y, mean, scale, hyperparameters, posterior);
    }

    /// <summary>The process conditioned on the samples with the given hyper-parameters.</summary>
    /// <param name="domain">Scales the inputs to [0, 1].</param>
    /// <param name="inputs">The sampled levels (finite).</param>
    /// <param name="outputs">The sampled values (finite), one per input.</param>
    /// <param name="hyperparameters">In working units (see <see cref="GaussianProcessHyperparameters"/>).</param>
    /// <param name="standardizeOutputs">Whether to standardize outputs (true) or condition a zero-mean prior on them as they are.</param>
    /// <exception cref="ArgumentException">No samples, different counts, or a value that is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is not finite and positive.</exception>
    public static GaussianProcess Create(SearchDomain domain, IReadOnlyList<double> inputs, IReadOnlyList<double> outputs,
        GaussianProcessHyperparameters hyperparameters, bool standardizeOutputs = true)
    {
        ArgumentNullException.ThrowIfNull(hyperparameters);
        hyperparameters.Validate();
        (double[] x, double[] y) = CheckedSamples(domain, inputs, outputs);
        (double mean, double scale, double[] working) = Standardize(y, standardizeOutputs);
        double[] unit = [.. x.Select(domain.ToUnit)];
        Posterior posterior = Condition(unit, working, hyperparameters)
            ?? throw new InvalidOperationException("The covariance matrix is not positive definite even with added jitter.");
        return new GaussianProcess(domain, x, y, mean, scale, hyperparameters, posterior);
    }

    /// <summary>The posterior mean and variance of the latent function at <paramref name="input"/>, in the outputs' units.</summary>
    /// <param name="input">A level (usually inside <see cref="Domain"/>).</param>
    public GaussianProcessPrediction Predict(double input)
    {
        int n = _unitInputs.Length;
        double unit = Domain.ToUnit(input);
        Span<double> v = n <= 64 ? stackalloc double[n] : new double[n];
        double mean = 0;
        for (int i = 0; i < n; i++)
        {
            v[i] = _kernel.Covariance(unit, _unitInputs[i]);
            mean += v[i] * _alpha[i];
        }
        _factor.SolveLower(v);
        double variance = _kernel.SignalVariance;
        for (int i = 0; i < n; i++) variance -= v[i] * v[i];
        return new GaussianProcessPrediction(OutputMean + OutputScale * mean, OutputScale * OutputScale * Math.Max(variance, 0));
    }

    private static (double[] Inputs, double[] Outputs) CheckedSamples(SearchDomain domain, IReadOnlyList<double> inputs, IReadOnlyList<double> outputs)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        if (inputs.Count == 0) throw new ArgumentException("A Gaussian process needs at least one sample.", nameof(inputs));
        if (inputs.Count != outputs.Count) throw new ArgumentException($"{inputs.Count} inputs but {outputs.Count} outputs.", nameof(outputs));
        double[] x = [.. inputs], y = [.. outputs];
        for (int i = 0; i < x.Length; i++)
        {
            if (!double.IsFinite(x[i])) throw new ArgumentException($"Input {i} is {x[i]}.", nameof(inputs));
            if (!double.IsFinite(y[i])) throw new ArgumentException($"Output {i} is {y[i]}.", nameof(outputs));
        }
        return (x, y);
    }

    private static (double Mean, double Scale, double[] Working) Standardize(double[] y, bool standardize)
    {
        if (!standardize) return (0, 1, (double[])y.Clone());
        double mean = y.Average();
        double variance = y.Sum(v => (v - mean) * (v - mean)) / y.Length;
        double scale = Math.Sqrt(variance);
        // Spread at the level of rounding error is no spread: dividing by it would blow rounding up to unit variance.
        if (!(scale > 1e-12 * Math.Max(Math.Abs(mean), double.Epsilon))) scale = mean != 0 ? Math.Abs(mean) : 1;
        return (mean, scale, [.. y.Select(v => (v - mean) / scale)]);
    }

    private static GaussianProcessHyperparameters MaximumLikelihood(double[] unit, double[] y, GaussianProcessFitOptions options)
    {
        double[] low = [Math.Log(options.MinLengthScale), Math.Log(options.MinSignalVariance), Math.Log(options.MinNoiseVariance)];
        double[] high = [Math.Log(options.MaxLengthScale), Math.Log(options.MaxSignalVariance), Math.Log(options.MaxNoiseVariance)];
        double NegativeLogLikelihood(double[] logs)
        {
            var clamped = Clamp(logs);
            var hyperparameters = new GaussianProcessHyperparameters(Math.Exp(clamped[0]), Math.Exp(clamped[1]), Math.Exp(clamped[2]));
            return Condition(unit, y, hyperparameters, jitter: false) is { } posterior ? -posterior.LogMarginalLikelihood : double.PositiveInfinity;
        }
        double[] Clamp(double[] logs) => [.. logs.Select((v, d) => Math.Clamp(v, low[d], high[d]))];

        double[] best = [.. low];
        double bestValue = double.PositiveInfinity;
        int[] counts = [GridLengthScales, GridSignalVariances, GridNoiseVariances];
        var point = new double[3];
        for (int a = 0; a < counts[0]; a++)
            for (int b = 0; b < counts[1]; b++)
                for (int c = 0; c < counts[2]; c++)
                {
                    point[0] = GridValue(0, a);
                    point[1] = GridValue(1, b);
                    point[2] = GridValue(2, c);
                    double value = NegativeLogLikelihood(point);
                    if (value < bestValue)
                    {
                        bestValue = value;
                        best = (double[])point.Clone();
                    }
                }
        // Steps of a grid cell or so; a unit in log space is a factor e.
        (double[] refined, _) = NelderMead.Minimize(NegativeLogLikelihood, best, step: 0.5);
        double[] logs = Clamp(refined);
        return new GaussianProcessHyperparameters(Math.Exp(logs[0]), Math.Exp(logs[1]), Math.Exp(logs[2]));

        double GridValue(int dimension, int index) =>
            counts[dimension] == 1 ? low[dimension] : low[dimension] + (high[dimension] - low[dimension]) * index / (counts[dimension] - 1);
    }

    private static Posterior? Condition(double[] unit, double[] y, GaussianProcessHyperparameters hyperparameters, bool jitter = true)
    {
        int n = unit.Length;
        Matern52Kernel kernel = hyperparameters.Kernel;
        var covariance = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double k = kernel.Covariance(unit[i], unit[j]);
                covariance[i * n + j] = k;
                covariance[j * n + i] = k;
            }
        // Jitter only rescues a factorization that rounding broke; the likelihood search treats a failure as unlikely instead.
        double added = 0;
        for (int attempt = 0; attempt < (jitter ? 6 : 1); attempt++)
        {
            for (int i = 0; i < n; i++) covariance[i * n + i] = kernel.SignalVariance + hyperparameters.NoiseVariance + added;
            if (CholeskyFactor.TryFactor(covariance, n) is { } factor)
            {
                var alpha = (double[])y.Clone();
                factor.Solve(alpha);
                double fit = 0;
                for (int i = 0; i < n; i++) fit += y[i] * alpha[i];
                double logLikelihood = -0.5 * fit - 0.5 * factor.LogDeterminant - 0.5 * n * LogTwoPi;
                return new Posterior(unit, alpha, factor, logLikelihood);
            }
            added = added == 0 ? 1e-10 * kernel.SignalVariance : added * 10;
        }
        return null;
    }

    private sealed record Posterior(double[] UnitInputs, double[] Alpha, CholeskyFactor Factor, double LogMarginalLikelihood);
}
