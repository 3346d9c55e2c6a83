using System.Numerics;
using System.Numerics.Tensors;
using Dopant.Matrices;

namespace Dopant.Training;

/// <summary>Plain stochastic gradient descent: θ ← θ − lr · g.</summary>
public sealed class SgdOptimizer<T> : IOptimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public string Name => "sgd";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, T[]> State { get; } = new Dictionary<string, T[]>();

    /// <inheritdoc/>
    public long StepCount { get; set; }

    private ParameterChunks<T>? _chunks;

    /// <inheritdoc/>
    public void Step(IReadOnlyList<Parameter<T>> parameters, double learningRate, double gradientScale = 1)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (_chunks?.Parameters != parameters) _chunks = new ParameterChunks<T>(parameters);
        T minusLr = T.CreateChecked(-learningRate * gradientScale);
        _chunks.ForEach((p, start, length) =>
        {
            Span<T> value = p.Value.AsSpan(start, length);
            TensorPrimitives.FusedMultiplyAdd(p.Gradient.AsSpan(start, length), minusLr, value, value);
        });
        StepCount++;
    }
}
