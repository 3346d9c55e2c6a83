using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Dopant.Numerics;

namespace Dopant.Matrices;

/// <summary>A plain dense weight matrix: one parameter of shape [Rows, Columns].</summary>
public sealed class DenseMatrix<T> : IWeightMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private StepPacking<T>? _steps;

    /// <summary>Creates a zero matrix whose parameter is named <paramref name="name"/>.</summary>
    public DenseMatrix(string name, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        Weight = new Parameter<T>(name, rows, columns);
        _parameters = [Weight];
    }

    /// <summary>Wraps an existing parameter of shape [rows, columns] (used for weight tying).</summary>
    public DenseMatrix(Parameter<T> weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Shape.Length != 2) throw new ArgumentException($"Parameter '{weight.Name}' is not a matrix.", nameof(weight));
        Weight = weight;
        _parameters = [Weight];
    }

    /// <summary>The weights, [Rows, Columns].</summary>
    public Parameter<T> Weight { get; }

    /// <inheritdoc/>
    public int Rows => Weight.Shape[0];

    /// <inheritdoc/>
    public int Columns => Weight.Shape[1];

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc/>
    public long ParameterCount => Weight.Length;

    /// <inheritdoc/>
    public long StorageBytes => (long)Weight.Length * Unsafe.SizeOf<T>();

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate)
    {
        if (_steps is { IsOpen: true } steps)
        {
            BatchCheck.Rows(x.Length, Columns, y.Length, Rows, count, nameof(x), nameof(y));
            if (steps.NeedsForwardPack) steps.PackForward(Weight.Value);
            steps.Forward(x, y, count, accumulate);
            return;
        }
        Blas.Gemm(false, true, count, Rows, Columns, T.One, x, Columns, Weight.Value, Columns,
            accumulate ? T.One : T.Zero, y, Rows);
    }

    /// <inheritdoc/>
    public void BackwardInput(ReadOnlySpan<T> dy, Span<T> dx, int count, bool accumulate)
    {
        if (_steps is { IsOpen: true } steps)
        {
            BatchCheck.Rows(dy.Length, Rows, dx.Length, Columns, count, nameof(dy), nameof(dx));
            if (steps.NeedsBackwardPack) steps.PackBackward(Weight.Value);
            steps.BackwardInput(dy, dx, count, accumulate);
            return;
        }
        Blas.Gemm(false, false, count, Columns, Rows, T.One, dy, Rows, Weight.Value, Columns,
            accumulate ? T.One : T.Zero, dx, Columns);
    }

    /// <inheritdoc/>
    public void BeginSteps() => (_steps ??= new StepPacking<T>(Rows, Columns)).Begin();

    /// <inheritdoc/>
    public void EndSteps() => _steps?.End();

    /// <inheritdoc/>
    public void AccumulateGradients(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count) =>
        Blas.Gemm(true, false, Rows, Columns, count, T.One, dy, Rows, x, Columns, T.One, Weight.Gradient, Columns);

    /// <inheritdoc/>
    public T[] ToDense() => (T[])Weight.Value.Clone();

    /// <inheritdoc/>
    public void GatherRows(ReadOnlySpan<int> rows, Span<T> output)
    {
        int n = Columns;
        for (int k = 0; k < rows.Length; k++) Weight.Value.AsSpan(CheckedRow(rows[k]) * n, n).CopyTo(output.Slice(k * n, n));
    }

    /// <inheritdoc/>
    public void AccumulateRowGradients(ReadOnlySpan<int> rows, ReadOnlySpan<T> dOutput)
    {
        int n = Columns;
        for (int k = 0; k < rows.Length; k++)
        {
            Span<T> row = Weight.Gradient.AsSpan(CheckedRow(rows[k]) * n, n);
            TensorPrimitives.Add(row, dOutput.Slice(k * n, n), row);
        }
    }

    private int CheckedRow(int row) =>
        (uint)row < (uint)Rows ? row : throw new ArgumentOutOfRangeException(nameof(row), row, $"Row {row} is outside [0, {Rows}).");
}
