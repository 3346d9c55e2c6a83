using System.Numerics;
using System.Numerics.Tensors;
using Dopant.Numerics;

namespace Dopant.Models;

/// <summary>
/// Inverted dropout: during training each element is kept with probability 1 − p and scaled by 1/(1 − p),
/// so evaluation needs no rescaling. The mask is kept for the backward pass.
/// </summary>
public sealed class Dropout<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _mask = [];
    private int _length;

    /// <summary>Creates dropout with drop probability <paramref name="probability"/> in [0, 1).</summary>
    public Dropout(double probability)
    {
        if (!(probability >= 0 && probability < 1)) throw new ArgumentOutOfRangeException(nameof(probability), probability, "Dropout probability must be in [0, 1).");
        Probability = probability;
    }

    /// <summary>The drop probability p.</summary>
    public double Probability { get; }

    /// <summary>The mask of the last training forward: 0 or 1/(1 − p) per element.</summary>
    public ReadOnlySpan<T> Mask => _mask.AsSpan(0, _length);

    /// <summary>Applies dropout in place, drawing a fresh mask from <paramref name="random"/>; a no-op (mask of ones) when p = 0.</summary>
    public void Forward(Span<T> data, Xoshiro256 random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Reserve(data.Length);
        Span<T> mask = _mask.AsSpan(0, data.Length);
        if (Probability == 0)
        {
            mask.Fill(T.One);
            return;
        }
        T scale = T.CreateChecked(1.0 / (1.0 - Probability));
        for (int k = 0; k < mask.Length; k++)
            mask[k] = random.NextDouble() < Probability ? T.Zero : scale;
        TensorPrimitives.Multiply(data, mask, data);
    }

    /// <summary>Applies a given mask in place (for tests that fix the mask).</summary>
    public void Forward(Span<T> data, ReadOnlySpan<T> mask)
    {
        if (mask.Length != data.Length) throw new ArgumentException("The mask must match the data.", nameof(mask));
        Reserve(data.Length);
        mask.CopyTo(_mask);
        TensorPrimitives.Multiply(data, mask, data);
    }

    /// <summary>∂L/∂x = ∂L/∂y ⊙ mask, in place.</summary>
    public void Backward(Span<T> gradient)
    {
        if (gradient.Length != _length) throw new InvalidOperationException("Dropout backward does not match the last forward.");
        if (Probability != 0) TensorPrimitives.Multiply(gradient, Mask, gradient);
    }

    private void Reserve(int length)
    {
        if (_mask.Length < length) _mask = new T[length];
        _length = length;
    }
}
