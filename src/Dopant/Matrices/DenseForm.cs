using System.Numerics;

namespace Dopant.Matrices;

/// <summary>The dense form (<see cref="DenseMatrix{T}"/>), <c>{"kind":"dense"}</c>.</summary>
public sealed class DenseForm : WeightFormKind
{
    /// <inheritdoc/>
    public override string Name => WeightFormSpec.DenseKind;

    /// <inheritdoc/>
    public override IWeightMatrix<T> Create<T>(WeightFormSpec spec, string name, int rows, int columns) => new DenseMatrix<T>(name, rows, columns);

    /// <inheritdoc/>
    public override WeightFormSpec? Describe<T>(IWeightMatrix<T> matrix) => matrix is DenseMatrix<T> ? WeightFormSpec.Dense : null;
}
