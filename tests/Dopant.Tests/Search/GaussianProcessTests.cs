using Dopant.Search;
using Xunit.Abstractions;

namespace Dopant.Tests.Search;

/// <summary>The Gaussian process: its posterior against independent references, and its hyper-parameter fit.</summary>
public class GaussianProcessTests(ITestOutputHelper output)
{
    private static readonly SearchDomain Domain = new(2, 50);
    private static readonly double[] Levels = [2, 9, 17.5, 26, 31, 50];
    private static readonly double[] Perplexities = [101.2, 101.9, 103.5, 108.0, 115.2, 160.0];

    [Theory]
    [InlineData(0.2, 1.0, 1e-4, true)]
    [InlineData(0.05, 2.5, 0.3, true)]
    [InlineData(1.5, 0.7, 1e-6, true)]
    [InlineData(0.3, 400.0, 2.0, false)]
    public void Posterior_with_fixed_hyperparameters_matches_the_Gauss_Jordan_reference(double lengthScale, double signalVariance, double noise, bool standardize)
    {
        var h = new GaussianProcessHyperparameters(lengthScale, signalVariance, noise);
        var gp = GaussianProcess.Create(Domain, Levels, Perplexities, h, standardize);
        var reference = new GaussJordanReference(Domain.Lower, Domain.Upper, Levels, Perplexities, h, standardize);
        Assert.Equal(reference.Mean, gp.OutputMean, 1e-12);
        Assert.Equal(reference.Scale, gp.OutputScale, 1e-12);
        Assert.Equal(reference.LogMarginalLikelihood, gp.LogMarginalLikelihood, 1e-8);
        foreach (double x in new[] { 2.0, 5.5, 17.5, 20, 33.3, 49, 50 })
        {
            GaussianProcessPrediction p = gp.Predict(x);
            (double mean, double variance) = reference.Predict(x);
            Assert.Equal(mean, p.Mean, 1e-8 * Math.Max(1, Math.Abs(mean)));
            Assert.Equal(Math.Max(variance, 0), p.Variance, 1e-8 * gp.OutputScale * gp.OutputScale * signalVariance);
        }
    }

    [Fact]
    public void One_sample_without_standardization_gives_the_closed_form_posterior()
    {
        // One sample (x₁, y₁), zero prior mean: μ(x) = k(x, x₁)/(s² + σ²)·y₁, var(x) = s² − k(x, x₁)²/(s² + σ²),
        // log p(y₁) = −½y₁²/(s² + σ²) − ½log(s² + σ²) − ½log 2π.
        const double s2 = 1.7, noise = 0.05, y1 = 3.2;
        var domain = new SearchDomain(0, 4);
        var gp = GaussianProcess.Create(domain, [1.0], [y1], new GaussianProcessHyperparameters(0.25, s2, noise), standardizeOutputs: false);
        var kernel = new Matern52Kernel(0.25, s2);
        foreach (double x in new[] { 0.0, 1.0, 1.3, 2.5, 4.0 })
        {
            double k = kernel.Covariance((x - 1.0) / 4);
            GaussianProcessPrediction p = gp.Predict(x);
            Assert.Equal(k / (s2 + noise) * y1, p.Mean, 1e-13);
            Assert.Equal(s2 - k * k / (s2 + noise), p.Variance, 1e-13);
        }
        Assert.Equal(-0.5 * y1 * y1 / (s2 + noise) - 0.5 * Math.Log(s2 + noise) - 0.5 * Math.Log(2 * Math.PI), gp.LogMarginalLikelihood, 1e-13);
    }

    [Fact]
    public void One_standardized_sample_predicts_its_own_value_with_a_prior_as_wide_as_the_value()
    {
        const double s2 = 1, noise = 1e-6, y1 = 104;
        var gp = GaussianProcess.Create(Domain, [20.0], [y1], new GaussianProcessHyperparameters(0.3, s2, noise));
        Assert.Equal(y1, gp.OutputMean);
        Assert.Equal(y1, gp.OutputScale);
        var kernel = new Matern52Kernel(0.3, s2);
        foreach (double x in new[] { 2.0, 20, 35 })
        {
            double k = kernel.Covariance((x - 20.0) / Domain.Width);
            Assert.Equal(y1, gp.Predict(x).Mean, 1e-12);
            Assert.Equal(y1 * y1 * (s2 - k * k / (s2 + noise)), gp.Predict(x).Variance, 1e-6);
        }
    }

    [Fact]
    public void With_tiny_noise_the_posterior_interpolates_the_samples()
    {
        var gp = GaussianProcess.Create(Domain, Levels, Perplexities, new GaussianProcessHyperparameters(0.2, 1, 1e-10));
        for (int i = 0; i < Levels.Length; i++)
        {
            GaussianProcessPrediction p = gp.Predict(Levels[i]);
            Assert.Equal(Perplexities[i], p.Mean, 1e-6);
            Assert.True(p.StandardDeviation < 1e-3, $"σ = {p.StandardDeviation} at sample {i}");
        }
        // Between samples the posterior is uncertain.
        Assert.True(gp.Predict(40).StandardDeviation > 1);
    }

    [Fact]
    public void Far_from_the_samples_the_posterior_returns_to_the_prior()
    {
        var h = new GaussianProcessHyperparameters(0.1, 1.3, 1e-4);
        var gp = GaussianProcess.Create(Domain, Levels, Perplexities, h);
        GaussianProcessPrediction far = gp.Predict(Domain.Upper + 10 * Domain.Width);
        Assert.Equal(Perplexities.Average(), far.Mean, 1e-9);
        Assert.Equal(h.SignalVariance * gp.OutputScale * gp.OutputScale, far.Variance, 1e-9 * far.Variance);
    }

    [Fact]
    public void Maximum_likelihood_finds_a_sensible_length_scale_and_beats_other_settings()
    {
        // A sine of period 2π sampled 9 times over a domain of width 10: correlations last a fraction of a period.
        var domain = new SearchDomain(0, 10);
        double[] x = [.. Enumerable.Range(0, 9).Select(i => i * 1.25)];
        double[] y = [.. x.Select(Math.Sin)];
        var gp = GaussianProcess.Fit(domain, x, y);
        GaussianProcessHyperparameters fit = gp.Hyperparameters;
        output.WriteLine($"fit {fit}, log marginal likelihood {gp.LogMarginalLikelihood}");
        Assert.InRange(fit.LengthScale, 0.08, 0.6);
        Assert.True(fit.NoiseVariance < 1e-3, $"noise {fit.NoiseVariance} for noise-free samples");

        GaussianProcessHyperparameters[] others =
        [
            fit with { LengthScale = fit.LengthScale / 2 },
            fit with { LengthScale = fit.LengthScale * 2 },
            fit with { SignalVariance = fit.SignalVariance * 3 },
            fit with { SignalVariance = fit.SignalVariance / 3 },
            fit with { NoiseVariance = 0.1 },
            new(0.03, 1, 1e-6),
            new(1, 1, 1e-2),
        ];
        foreach (GaussianProcessHyperparameters other in others)
            Assert.True(gp.LogMarginalLikelihood >= GaussianProcess.Create(domain, x, y, other).LogMarginalLikelihood,
                $"{other} explains the samples better than the fit {fit}");

        // Halfway between samples the fitted posterior is close to the sine inside the domain, and everywhere its ±2σ
        // band holds the sine.
        foreach (double t in new[] { 1.875, 3.125, 5.625, 8.125 })
            Assert.Equal(Math.Sin(t), gp.Predict(t).Mean, 0.05);
        foreach (double t in new[] { 0.3, 0.625, 1.875, 3.125, 5.625, 8.125, 9.375, 9.7 })
            Assert.InRange(Math.Sin(t), gp.Predict(t).Lower(2), gp.Predict(t).Upper(2));
    }

    [Fact]
    public void Maximum_likelihood_attributes_scatter_to_noise()
    {
        var domain = new SearchDomain(0, 1);
        double[] x = [.. Enumerable.Range(0, 10).Select(i => i / 9.0)];
        double[] clean = [.. x.Select(v => 2 * v)];
        // An alternating ±0.15 on a line: no smooth function explains it, noise does.
        double[] scattered = [.. clean.Select((v, i) => v + (i % 2 == 0 ? 0.15 : -0.15))];
        double cleanNoise = GaussianProcess.Fit(domain, x, clean).Hyperparameters.NoiseVariance;
        double scatteredNoise = GaussianProcess.Fit(domain, x, scattered).Hyperparameters.NoiseVariance;
        Assert.True(cleanNoise < 1e-3, $"noise {cleanNoise} on a clean line");
        Assert.True(scatteredNoise > 1e-2, $"noise {scatteredNoise} on a scattered line");
    }

    [Fact]
    public void Fitting_is_deterministic_and_respects_the_bounds()
    {
        var options = new GaussianProcessFitOptions { MinLengthScale = 0.4, MaxLengthScale = 0.5, MinNoiseVariance = 1e-3 };
        var a = GaussianProcess.Fit(Domain, Levels, Perplexities, options);
        var b = GaussianProcess.Fit(Domain, Levels, Perplexities, options);
        Assert.Equal(a.Hyperparameters, b.Hyperparameters);
        Assert.InRange(a.Hyperparameters.LengthScale, 0.4, 0.5);
        Assert.True(a.Hyperparameters.NoiseVariance >= 1e-3);
    }

    [Fact]
    public void Bad_samples_are_refused()
    {
        Assert.Throws<ArgumentException>(() => GaussianProcess.Fit(Domain, [], []));
        Assert.Throws<ArgumentException>(() => GaussianProcess.Fit(Domain, [1.0, 2.0], [1.0]));
        Assert.Throws<ArgumentException>(() => GaussianProcess.Fit(Domain, [1.0], [double.NaN]));
        Assert.Throws<ArgumentOutOfRangeException>(() => GaussianProcess.Create(Domain, [1.0], [1.0], new GaussianProcessHyperparameters(0.1, 1, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SearchDomain(1, 1));
    }
}
