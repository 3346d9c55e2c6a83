using Dopant.Search;

namespace Dopant.Tests.Search;

/// <summary>The Matérn 5/2 covariance against values worked out from k(r) = s²(1 + z + z²/3)e^(−z), z = √5·r/ℓ.</summary>
public class Matern52KernelTests
{
    [Theory]
    // r = 0: k = s².
    [InlineData(0.0, 0.5, 2.0, 2.0)]
    // z = √5/2, z² = 5/4: 2·(1 + 1.118033988749895 + 0.41666…)·e^(−1.118033988749895).
    [InlineData(0.25, 0.5, 2.0, 1.657298284836251)]
    // z = 2√5, z² = 20: 2·(1 + 4.47213595499958 + 6.66…)·e^(−4.47213595499958).
    [InlineData(1.0, 0.5, 2.0, 0.27732043827700853)]
    // z = 3√5, z² = 45: (1 + 6.708203932499369 + 15)·e^(−6.708203932499369).
    [InlineData(0.3, 0.1, 1.0, 0.027723421914625825)]
    // A negative distance counts as its length: z = 2√5/3, z² = 20/9, s² = ½.
    [InlineData(-2.0, 3.0, 0.5, 0.3638813706957494)]
    public void Covariance_matches_the_closed_form(double distance, double lengthScale, double signalVariance, double expected)
    {
        var kernel = new Matern52Kernel(lengthScale, signalVariance);
        Assert.Equal(expected, kernel.Covariance(distance), 1e-15);
        Assert.Equal(expected, kernel.Covariance(10 + distance, 10), 1e-12);
        Assert.Equal(expected, kernel.Covariance(10, 10 + distance), 1e-12);
    }

    [Fact]
    public void Covariance_falls_monotonically_with_distance()
    {
        var kernel = new Matern52Kernel(0.2, 1);
        double[] values = [.. Enumerable.Range(0, 50).Select(i => kernel.Covariance(i * 0.05))];
        Assert.All(values.Zip(values.Skip(1)), pair => Assert.True(pair.Second < pair.First));
        Assert.True(values[^1] < 1e-8);
    }
}
