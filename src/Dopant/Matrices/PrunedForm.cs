using System.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// Pruned matrices with a persistent mask (<see cref="PrunedMatrix{T}"/>), <c>{"kind":"pruned"}</c> or with a block
/// shape <c>{"kind":"pruned","block":"16x1"}</c>; fitted as a copy, nothing pruned yet.
/// </summary>
public sealed class PrunedForm : WeightFormKind
{
    /// <inheritdoc/>
    public override string Name => WeightFormSpec.PrunedKind;

    /// <inheritdoc/>
    public override bool TakesBlock => true;

    /// <inheritdoc/>
    public override IWeightMatrix<T> Create<T>(WeightFormSpec spec, string name, int rows, int columns) =>
        new PrunedMatrix<T>(name, rows, columns, spec.BlockShape);

    /// <inheritdoc/>
    public override WeightFormSpec? Describe<T>(IWeightMatrix<T> matrix) => matrix is PrunedMatrix<T> p
        ? p.Block.IsUnstructured ? WeightFormSpec.Pruned : WeightFormSpec.PrunedInBlocks(p.Block)
        : null;
}
