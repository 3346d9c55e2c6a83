using System.Numerics;

namespace Dopant.Matrices;

/// <summary>Low rank U·V (<see cref="LowRankMatrix{T}"/>), <c>{"kind":"low_rank","rank":r}</c>; fitted by the truncated SVD.</summary>
public sealed class LowRankForm : WeightFormKind
{
    /// <inheritdoc/>
    public override string Name => WeightFormSpec.LowRankKind;

    /// <inheritdoc/>
    public override bool UsesRank => true;

    /// <inheritdoc/>
    public override bool FitsFromDense => true;

    /// <inheritdoc/>
    public override IWeightMatrix<T> Create<T>(WeightFormSpec spec, string name, int rows, int columns) =>
        new LowRankMatrix<T>(name, rows, columns, spec.Rank!.Value);

    /// <inheritdoc/>
    public override IWeightMatrix<T> FromDense<T>(WeightFormSpec spec, string name, ReadOnlySpan<T> dense, int rows, int columns) =>
        LowRankMatrix<T>.FromDense(name, dense, rows, columns, spec.Rank!.Value);

    /// <inheritdoc/>
    public override WeightFormSpec? Describe<T>(IWeightMatrix<T> matrix) => matrix is LowRankMatrix<T> l ? WeightFormSpec.LowRank(l.Rank) : null;
}
