using Dopant.Inference;

namespace Dopant.Tests.Inference;

public class TokenSamplerTests
{
    [Fact]
    public void Draws_follow_the_softmax_at_the_temperature()
    {
        float[] logits = [0f, MathF.Log(3f), -50f];
        var sampler = new TokenSampler(temperature: 1, topK: 0, seed: 5);
        int[] counts = new int[3];
        for (int i = 0; i < 40000; i++) counts[sampler.Sample(logits)]++;
        Assert.Equal(0.25, counts[0] / 40000.0, 0.01);
        Assert.Equal(0.75, counts[1] / 40000.0, 0.01);
        Assert.Equal(0, counts[2]);

        // At temperature 1/2 the odds 1 : 3 become 1 : 9.
        var sharp = new TokenSampler(temperature: 0.5, topK: 0, seed: 6);
        int first = Enumerable.Range(0, 40000).Count(_ => sharp.Sample(logits) == 0);
        Assert.Equal(0.1, first / 40000.0, 0.01);
    }

    [Fact]
    public void Top_k_keeps_only_the_k_most_likely_tokens()
    {
        float[] logits = [1f, 5f, 3f, 4f, 2f];
        var greedy = new TokenSampler(1, topK: 1, seed: 1);
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal(1, greedy.Sample(logits)));
        var two = new TokenSampler(1, topK: 2, seed: 2);
        var drawn = Enumerable.Range(0, 2000).Select(_ => two.Sample(logits)).ToHashSet();
        Assert.Equal([1, 3], drawn.Order());
    }

    [Fact]
    public void The_same_seed_draws_the_same_tokens()
    {
        float[] logits = [.. Enumerable.Range(0, 50).Select(i => MathF.Sin(i))];
        int[] Draw(ulong seed)
        {
            var sampler = new TokenSampler(0.8, 10, seed);
            return [.. Enumerable.Range(0, 100).Select(_ => sampler.Sample(logits))];
        }
        Assert.Equal(Draw(9), Draw(9));
        Assert.NotEqual(Draw(9), Draw(10));
    }

    [Theory]
    [InlineData(0.0, 0, "--temperature")]
    [InlineData(double.NaN, 0, "--temperature")]
    [InlineData(1.0, -1, "--top-k")]
    public void Bad_settings_name_the_option(double temperature, int topK, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => new TokenSampler(temperature, topK, 1));
        Assert.Contains(expected, e.Message);
    }
}
