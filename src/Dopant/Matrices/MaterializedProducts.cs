using System.Buffers;
using System.Numerics;
using Dopant.Numerics;

namespace Dopant.Matrices;

/// <summary>Writes a form's dense W (rows × columns, row-major) into the span given.</summary>
internal delegate void DenseFill<T>(Span<T> dense);

/// <summary>Takes ∂L/∂W (rows × columns, row-major) and adds each part's share to its parameters' gradients.</summary>
internal delegate void DenseGradientSink<T>(ReadOnlySpan<T> gradient);

/// <summary>
/// The passes of a form that multiplies by its dense W formed on demand in a pooled array (a Kronecker sum whose
/// factored products would cost more, or doped M + S formed once): one GEMM per pass, W packed once per run of steps
/// (<see cref="StepPacking{T}"/>), and ∂L/∂W formed once for the form to split among its parameters.
/// </summary>
internal sealed class MaterializedProducts<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int _rows, _columns;
    private readonly DenseFill<T> _fill;
    private readonly DenseGradientSink<T> _sink;
    private StepPacking<T>? _steps;

    public MaterializedProducts(int rows, int columns, DenseFill<T> fill, DenseGradientSink<T> sink)
    {
        (_rows, _columns, _fill, _sink) = (rows, columns, fill, sink);
    }

    public void BeginSteps() => (_steps ??= new StepPacking<T>(_rows, _columns)).Begin();

    public void EndSteps() => _steps?.End();

    /// <summary>Whether a run of steps is open (between <see cref="BeginSteps"/> and <see cref="EndSteps"/>).</summary>
    public bool InSteps => _steps is { IsOpen: true };

    /// <summary>y[count×rows] = x · Wᵀ (+= when accumulating).</summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate)
    {
        if (_steps is { IsOpen: true } steps)
        {
            if (steps.NeedsForwardPack) WithDense(static (weights, packing) => packing.PackForward(weights), steps);
            steps.Forward(x, y, count, accumulate);
            return;
        }
        T[] dense = RentDense();
        try
        {
            Blas.Gemm(false, true, count, _rows, _columns, T.One, x, _columns, dense, _columns, accumulate ? T.One : T.Zero, y, _rows);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(dense);
        }
    }

    /// <summary>dx[count×columns] = dy · W (+= when accumulating).</summary>
    public void BackwardInput(ReadOnlySpan<T> dy, Span<T> dx, int count, bool accumulate)
    {
        if (_steps is { IsOpen: true } steps)
        {
            if (steps.NeedsBackwardPack) WithDense(static (weights, packing) => packing.PackBackward(weights), steps);
            steps.BackwardInput(dy, dx, count, accumulate);
            return;
        }
        T[] dense = RentDense();
        try
        {
            Blas.Gemm(false, false, count, _columns, _rows, T.One, dy, _rows, dense, _columns, accumulate ? T.One : T.Zero, dx, _columns);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(dense);
        }
    }

    /// <summary>∂L/∂W = dyᵀ · x over the batch, handed to the form's gradient sink.</summary>
    public void AccumulateGradients(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count)
    {
        T[] gradient = ArrayPool<T>.Shared.Rent(_rows * _columns);
        try
        {
            Blas.Gemm(true, false, _rows, _columns, count, T.One, dy, _rows, x, _columns, T.Zero, gradient, _columns);
            _sink(gradient.AsSpan(0, _rows * _columns));
        }
        finally
        {
            ArrayPool<T>.Shared.Return(gradient);
        }
    }

    // W in a pooled array, for the caller to return.
    private T[] RentDense()
    {
        T[] dense = ArrayPool<T>.Shared.Rent(_rows * _columns);
        _fill(dense.AsSpan(0, _rows * _columns));
        return dense;
    }

    private void WithDense<TArg>(ReadOnlySpanAction<T, TArg> use, TArg argument)
    {
        T[] dense = RentDense();
        try
        {
            use(dense.AsSpan(0, _rows * _columns), argument);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(dense);
        }
    }
}
