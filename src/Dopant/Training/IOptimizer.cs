using System.Numerics;
using Dopant.Matrices;

namespace Dopant.Training;

/// <summary>Updates parameters from their gradients.</summary>
public interface IOptimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The optimizer's name as options and checkpoints spell it (<c>sgd</c>, <c>adam</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Applies one update with learning rate <paramref name="learningRate"/> to gradients taken as
    /// <paramref name="gradientScale"/> · Gradient (e.g. the clipping coefficient), without rewriting the gradients.
    /// </summary>
    void Step(IReadOnlyList<Parameter<T>> parameters, double learningRate, double gradientScale = 1);

    /// <summary>The optimizer's state tensors by name (for checkpoints); empty for a stateless optimizer.</summary>
    IReadOnlyDictionary<string, T[]> State { get; }

    /// <summary>Scalar state (e.g. Adam's step count) for checkpoints.</summary>
    long StepCount { get; set; }
}
