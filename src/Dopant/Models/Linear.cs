using System.Numerics;
using System.Numerics.Tensors;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Models;

/// <summary>An affine layer y = x · Wᵀ + b (torch.nn.Linear), W reached through <see cref="IWeightMatrix{T}"/>.</summary>
public sealed class Linear<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the layer over a weight form and a bias named <paramref name="biasName"/>.</summary>
    public Linear(IWeightMatrix<T> weight, string biasName)
    {
        ArgumentNullException.ThrowIfNull(weight);
        Weight = weight;
        Bias = new Parameter<T>(biasName, weight.Rows);
    }

    /// <summary>W, [out, in].</summary>
    public IWeightMatrix<T> Weight { get; private set; }

    /// <summary>Replaces W by another form of the same shape.</summary>
    public void ReplaceWeight(IWeightMatrix<T> weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rows != Weight.Rows || weight.Columns != Weight.Columns)
            throw new ArgumentException($"The new weight is {weight.Rows} × {weight.Columns}; the layer's is {Weight.Rows} × {Weight.Columns}.", nameof(weight));
        Weight = weight;
    }

    /// <summary>b, [out].</summary>
    public Parameter<T> Bias { get; }

    /// <summary>Output width.</summary>
    public int OutputSize => Weight.Rows;

    /// <summary>Input width.</summary>
    public int InputSize => Weight.Columns;

    /// <summary>y[count, out] = x[count, in] · Wᵀ + b.</summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int count)
    {
        int o = OutputSize;
        for (int r = 0; r < count; r++) Bias.Value.CopyTo(y.Slice(r * o, o));
        Weight.Forward(x, y, count, accumulate: true);
    }

    /// <summary>Accumulates ∂L/∂W and ∂L/∂b and writes ∂L/∂x into <paramref name="dx"/> (skipped when empty).</summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int count)
    {
        int o = OutputSize;
        Weight.AccumulateGradients(x, dy, count);
        ColumnSums.AccumulateInto(dy, count, o, Bias.Gradient);
        if (!dx.IsEmpty) Weight.BackwardInput(dy, dx, count, accumulate: false);
    }
}
