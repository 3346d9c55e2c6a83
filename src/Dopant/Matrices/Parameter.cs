using System.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// A trainable tensor: its values, the gradient accumulated by backward passes, a PyTorch-style name
/// (<c>rnn.weight_ih_l0</c>) and a row-major shape.
/// </summary>
public sealed class Parameter<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a zero-filled parameter.</summary>
    public Parameter(string name, params int[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        long length = 1;
        foreach (int d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            length *= d;
        }
        if (length > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(shape), $"Parameter '{name}' has {length} elements, more than an array can hold.");
        Name = name;
        Shape = (int[])shape.Clone();
        Value = new T[length];
        Gradient = new T[length];
    }

    /// <summary>The state-dict name.</summary>
    public string Name { get; }

    /// <summary>The row-major shape.</summary>
    public int[] Shape { get; }

    /// <summary>The values, row-major.</summary>
    public T[] Value { get; }

    /// <summary>The gradient accumulated since the last <see cref="ZeroGradient"/>.</summary>
    public T[] Gradient { get; }

    /// <summary>Number of elements.</summary>
    public int Length => Value.Length;

    /// <summary>Clears the gradient.</summary>
    public void ZeroGradient() => Array.Clear(Gradient);

    /// <summary>The shape as text, e.g. <c>[2600, 650]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <inheritdoc/>
    public override string ToString() => Name + ShapeText;
}
