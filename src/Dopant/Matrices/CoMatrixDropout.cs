using System.Numerics;
using Dopant.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// Co-matrix dropout regularization (CMR; Thakker et al., "Doping", MLSys 2021): during training, the output of one
/// path of a <see cref="DopedMatrix{T}"/> (the sparse doping matrix S, or optionally the structured part) is dropped
/// element by element with probability <see cref="Probability"/> and the kept elements are scaled by 1/(1 − p)
/// (inverted dropout), so that the other path cannot come to rely on it (co-matrix adaptation).
/// </summary>
/// <remarks>
/// The mask has one Bernoulli draw per (sample of the batch, output unit) and is held for a whole training window by
/// <see cref="Resample"/>: a batch of rows r = t·batch + b (time-major, as the LSTM passes them) uses row b of the
/// mask at every time step t. Holding it fixed through the window makes the forward and backward passes of the
/// window see the same mask whatever the order and grouping of their calls (the LSTM's input projection is one call
/// over all time steps; its recurrent projection one call per step), in the manner of variational dropout (Gal and
/// Ghahramani 2016).
/// </remarks>
public sealed class CoMatrixDropout<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _mask = [];
    private int _batch;
    private double _probability;

    /// <summary>Creates an inactive dropout for a path with <paramref name="units"/> outputs.</summary>
    /// <param name="units">The output size of the path (the matrix's rows).</param>
    /// <param name="probability">The drop probability p, in [0, 1).</param>
    public CoMatrixDropout(int units, double probability)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(units);
        Units = units;
        Probability = probability;
    }

    /// <summary>The output size of the path.</summary>
    public int Units { get; }

    /// <summary>The drop probability p, in [0, 1); it may be changed between windows (annealed).</summary>
    public double Probability
    {
        get => _probability;
        set
        {
            if (!(value >= 0 && value < 1)) throw new ArgumentOutOfRangeException(nameof(value), value, "The co-matrix dropout probability must be in [0, 1).");
            _probability = value;
        }
    }

    /// <summary>True while a mask is in force (between <see cref="Resample"/> and <see cref="Deactivate"/>).</summary>
    public bool IsActive => _batch > 0;

    /// <summary>The batch size of the mask in force, or 0 when inactive.</summary>
    public int BatchSize => _batch;

    /// <summary>The mask in force, [BatchSize, Units] row-major: 0 for a dropped element, 1/(1 − p) for a kept one.</summary>
    public ReadOnlySpan<T> Mask => _mask.AsSpan(0, _batch * Units);

    /// <summary>Draws a new mask for a window of batches of <paramref name="batchSize"/> samples and activates it.</summary>
    public void Resample(Xoshiro256 random, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        int length = checked(batchSize * Units);
        if (_mask.Length < length) _mask = new T[length];
        T keep = T.One / T.CreateChecked(1 - _probability);
        for (int i = 0; i < length; i++)
            _mask[i] = random.NextDouble() < _probability ? T.Zero : keep;
        _batch = batchSize;
    }

    /// <summary>Turns the dropout off (evaluation, inference): the path passes unchanged.</summary>
    public void Deactivate() => _batch = 0;

    /// <summary>
    /// Multiplies <paramref name="values"/> ([count, Units], time-major batches) by the mask in force, in place;
    /// does nothing when inactive.
    /// </summary>
    public void Apply(Span<T> values, int count)
    {
        if (!IsActive) return;
        if (count % _batch != 0)
            throw new InvalidOperationException($"A batch of {count} rows is not a whole number of the dropout mask's {_batch} samples.");
        ReadOnlySpan<T> mask = Mask;
        int units = Units;
        for (int r = 0; r < count; r++)
        {
            Span<T> row = values.Slice(r * units, units);
            System.Numerics.Tensors.TensorPrimitives.Multiply(row, mask.Slice(r % _batch * units, units), row);
        }
    }
}
