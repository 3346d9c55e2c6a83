using System.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// A weight matrix W (<see cref="Rows"/> × <see cref="Columns"/>) in some form: dense, Kronecker, low-rank, sparse,
/// doped. Layers reach their weights only through this interface, so that any form can replace a dense matrix.
/// Activations are row-major batches: one row per sample.
/// </summary>
public interface IWeightMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Output size m (rows of W).</summary>
    int Rows { get; }

    /// <summary>Input size n (columns of W).</summary>
    int Columns { get; }

    /// <summary>The trainable tensors of this form, with state-dict names.</summary>
    IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>Number of stored weights (what the compression factor counts).</summary>
    long ParameterCount { get; }

    /// <summary>Bytes needed to store the form (values and any indices) at its storage precision.</summary>
    long StorageBytes { get; }

    /// <summary>y[count×Rows] = x[count×Columns] · Wᵀ, or += when <paramref name="accumulate"/>.</summary>
    void Forward(ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate);

    /// <summary>dx[count×Columns] = dy[count×Rows] · W, or += when <paramref name="accumulate"/>.</summary>
    void BackwardInput(ReadOnlySpan<T> dy, Span<T> dx, int count, bool accumulate);

    /// <summary>Adds the gradient of the loss with respect to the form's parameters, given dy = ∂L/∂y for inputs x.</summary>
    void AccumulateGradients(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count);

    /// <summary>The matrix as a dense row-major array.</summary>
    T[] ToDense();

    /// <summary>
    /// Announces a run of <see cref="Forward"/> and <see cref="BackwardInput"/> calls with small batches (the time steps
    /// of a recurrent window) during which the values do not change, until <see cref="EndSteps"/>. A form may then do
    /// once what every product would repeat (pack the operand of its GEMMs); the results are the same.
    /// </summary>
    void BeginSteps()
    {
    }

    /// <summary>Ends the run begun by <see cref="BeginSteps"/>; the values may change again.</summary>
    void EndSteps()
    {
    }
}
