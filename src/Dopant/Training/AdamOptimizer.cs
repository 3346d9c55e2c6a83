using System.Numerics;
using Dopant.Matrices;

namespace Dopant.Training;

/// <summary>Adam (Kingma and Ba 2015, Algorithm 1), with torch.optim.Adam's defaults β1 = 0.9, β2 = 0.999, ε = 1e-8.</summary>
public sealed class AdamOptimizer<T> : IOptimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dictionary<string, T[]> _state = [];

    /// <summary>Creates the optimizer.</summary>
    public AdamOptimizer(double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        Beta1 = beta1; Beta2 = beta2; Epsilon = epsilon;
    }

    /// <summary>Decay of the first-moment estimate.</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the second-moment estimate.</summary>
    public double Beta2 { get; }

    /// <summary>Added to the denominator for stability.</summary>
    public double Epsilon { get; }

    /// <inheritdoc/>
    public string Name => "adam";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, T[]> State => _state;

    /// <inheritdoc/>
    public long StepCount { get; set; }

    /// <inheritdoc/>
    public void Step(IReadOnlyList<Parameter<T>> parameters, double learningRate, double gradientScale = 1)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        StepCount++;
        double correction1 = 1 - Math.Pow(Beta1, StepCount), correction2 = 1 - Math.Pow(Beta2, StepCount);
        T b1 = T.CreateChecked(Beta1), b2 = T.CreateChecked(Beta2), oneMinusB1 = T.One - b1, oneMinusB2 = T.One - b2;
        T stepSize = T.CreateChecked(learningRate / correction1), scale = T.CreateChecked(gradientScale);
        T sqrtCorrection2 = T.CreateChecked(Math.Sqrt(correction2)), eps = T.CreateChecked(Epsilon);
        foreach (Parameter<T> p in parameters)
        {
            T[] m = Moment("m." + p.Name, p.Length), v = Moment("v." + p.Name, p.Length);
            T[] g = p.Gradient, w = p.Value;
            for (int k = 0; k < w.Length; k++)
            {
                T gk = g[k] * scale;
                m[k] = b1 * m[k] + oneMinusB1 * gk;
                v[k] = b2 * v[k] + oneMinusB2 * gk * gk;
                w[k] -= stepSize * m[k] / (T.Sqrt(v[k]) / sqrtCorrection2 + eps);
            }
        }
    }

    private T[] Moment(string key, int length)
    {
        if (!_state.TryGetValue(key, out T[]? moment))
            _state[key] = moment = new T[length];
        else if (moment.Length != length)
            throw new InvalidOperationException($"Optimizer state '{key}' has {moment.Length} values, the parameter {length}.");
        return moment;
    }

    /// <summary>Forgets every state tensor (the moments start again from zero).</summary>
    public void ClearState() => _state.Clear();

    /// <summary>Restores a state tensor saved from <see cref="State"/>.</summary>
    public void RestoreState(string key, T[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        _state[key] = values;
    }
}
