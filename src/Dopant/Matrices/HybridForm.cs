using System.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// Hybrid matrix decomposition (<see cref="HybridMatrix{T}"/>), dense upper rows over a low-rank rest,
/// <c>{"kind":"hybrid","dense_rows":d,"rank":r}</c>; fitted by the truncated SVD of the rest.
/// </summary>
public sealed class HybridForm : WeightFormKind
{
    /// <inheritdoc/>
    public override string Name => WeightFormSpec.HybridKind;

    /// <inheritdoc/>
    public override bool UsesRank => true;

    /// <inheritdoc/>
    public override bool FitsFromDense => true;

    /// <inheritdoc/>
    public override bool UsesDenseRows => true;

    /// <inheritdoc/>
    public override IWeightMatrix<T> Create<T>(WeightFormSpec spec, string name, int rows, int columns) =>
        new HybridMatrix<T>(name, rows, columns, spec.DenseRows!.Value, spec.Rank!.Value);

    /// <inheritdoc/>
    public override IWeightMatrix<T> FromDense<T>(WeightFormSpec spec, string name, ReadOnlySpan<T> dense, int rows, int columns) =>
        HybridMatrix<T>.FromDense(name, dense, rows, columns, spec.DenseRows!.Value, spec.Rank!.Value);

    /// <inheritdoc/>
    public override WeightFormSpec? Describe<T>(IWeightMatrix<T> matrix) => matrix is HybridMatrix<T> h ? WeightFormSpec.Hybrid(h.DenseRows, h.Rank) : null;
}
