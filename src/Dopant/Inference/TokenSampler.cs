using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>
/// Draws the next token from logits: softmax at a temperature, optionally restricted to the k most likely tokens
/// (top-k sampling, Fan et al. 2018). Reuses its scratch, so one sampler serves one generation loop.
/// </summary>
public sealed class TokenSampler
{
    private readonly Xoshiro256 _random;
    private float[] _sorted = [];

    /// <summary>Creates a sampler; <paramref name="temperature"/> &gt; 0, <paramref name="topK"/> 0 for the whole vocabulary.</summary>
    public TokenSampler(double temperature, int topK, ulong seed)
    {
        if (!(temperature > 0) || !double.IsFinite(temperature)) throw new ArgumentException($"--temperature must be positive (got {temperature}).");
        if (topK < 0) throw new ArgumentException($"--top-k must not be negative (got {topK}).");
        Temperature = temperature;
        TopK = topK;
        _random = new Xoshiro256(seed);
    }

    /// <summary>The softmax temperature: below 1 sharpens, above 1 flattens.</summary>
    public double Temperature { get; }

    /// <summary>How many of the most likely tokens may be drawn; 0 means all.</summary>
    public int TopK { get; }

    /// <summary>A token id drawn from <paramref name="logits"/>.</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty) throw new ArgumentException("No logits to sample from.", nameof(logits));
        float max = System.Numerics.Tensors.TensorPrimitives.Max(logits);
        float threshold = float.NegativeInfinity;
        if (TopK > 0 && TopK < logits.Length)
        {
            if (_sorted.Length < logits.Length) _sorted = new float[logits.Length];
            Span<float> sorted = _sorted.AsSpan(0, logits.Length);
            logits.CopyTo(sorted);
            sorted.Sort();
            threshold = sorted[^TopK];
        }
        double total = 0;
        foreach (float v in logits)
            if (v >= threshold) total += Math.Exp((v - max) / Temperature);
        double u = _random.NextDouble() * total;
        int last = -1;
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] < threshold) continue;
            last = i;
            u -= Math.Exp((logits[i] - max) / Temperature);
            if (u < 0) return i;
        }
        return last;
    }
}
