using System.Numerics.Tensors;

namespace Dopant.Compression;

/// <summary>
/// The quadratic penalty of an L step, μ/2 · ‖w − Δ(θ) − λ/μ‖² summed over the compressed weights: it draws w towards
/// its compressed form Δ(θ), shifted by the Lagrange multipliers λ.
/// </summary>
public sealed class LearningCompressionPenalty
{
    private readonly IReadOnlyList<CompressibleWeight> _weights;
    private readonly float[][] _targets;

    internal LearningCompressionPenalty(IReadOnlyList<CompressibleWeight> weights, float[][] targets, double mu)
    {
        _weights = weights;
        _targets = targets;
        Mu = mu;
    }

    /// <summary>The penalty weight μ.</summary>
    public double Mu { get; }

    /// <summary>The point w is drawn to, Δ(θ) + λ/μ, for the <paramref name="index"/>-th compressed weight.</summary>
    public ReadOnlySpan<float> Target(int index) => _targets[index];

    /// <summary>The penalty at the weights' current values.</summary>
    public double Value()
    {
        double sum = 0;
        for (int k = 0; k < _weights.Count; k++)
        {
            float[] w = _weights[k].Values, t = _targets[k];
            for (int i = 0; i < w.Length; i++)
            {
                double d = w[i] - t[i];
                sum += d * d;
            }
        }
        return Mu / 2 * sum;
    }

    /// <summary>
    /// Adds the penalty's gradient μ(w − target) to every compressed weight's <see cref="CompressibleWeight.Gradient"/>,
    /// divided by <paramref name="gradientScale"/>: an optimizer that multiplies the whole gradient by the clipping
    /// coefficient then applies the penalty unclipped, so that clipping bounds only the loss gradient.
    /// </summary>
    /// <exception cref="InvalidOperationException">A compressed weight carries no gradient.</exception>
    public void AddGradients(double gradientScale = 1)
    {
        if (!(gradientScale > 0)) throw new ArgumentOutOfRangeException(nameof(gradientScale));
        float scale = (float)(Mu / gradientScale);
        for (int k = 0; k < _weights.Count; k++)
        {
            float[] g = _weights[k].Gradient ?? throw new InvalidOperationException($"'{_weights[k].Name}' carries no gradient to add the penalty to.");
            float[] w = _weights[k].Values, t = _targets[k];
            for (int i = 0; i < w.Length; i++) g[i] += scale * (w[i] - t[i]);
        }
    }

    /// <summary>Adds μ(w − target) for the <paramref name="index"/>-th weight to <paramref name="gradient"/> (for learners that keep their own gradient).</summary>
    public void AddGradient(int index, Span<float> gradient)
    {
        float[] w = _weights[index].Values, t = _targets[index];
        if (gradient.Length != w.Length) throw new ArgumentException("One gradient entry per weight.", nameof(gradient));
        Span<float> d = w.Length <= 4096 ? stackalloc float[w.Length] : new float[w.Length];
        TensorPrimitives.Subtract(w, t, d);
        TensorPrimitives.MultiplyAdd(d, (float)Mu, gradient, gradient);
    }
}
