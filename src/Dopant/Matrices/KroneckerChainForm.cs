using System.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// Sums of chains of 3–4 Kronecker factors (<see cref="KroneckerChainMatrix{T}"/>),
/// <c>{"kind":"kronecker_chain","shape":...,"rank":r}</c>; fitted by peeling and ALS refinement.
/// </summary>
public sealed class KroneckerChainForm : WeightFormKind
{
    /// <inheritdoc/>
    public override string Name => WeightFormSpec.KroneckerChainKind;

    /// <inheritdoc/>
    public override bool UsesShape => true;

    /// <inheritdoc/>
    public override bool UsesRank => true;

    /// <inheritdoc/>
    public override bool FitsFromDense => true;

    /// <inheritdoc/>
    public override IWeightMatrix<T> Create<T>(WeightFormSpec spec, string name, int rows, int columns) =>
        new KroneckerChainMatrix<T>(name, KroneckerChainShape.Parse(spec.Shape!, rows, columns), spec.Rank!.Value);

    /// <inheritdoc/>
    public override IWeightMatrix<T> FromDense<T>(WeightFormSpec spec, string name, ReadOnlySpan<T> dense, int rows, int columns)
    {
        var shape = KroneckerChainShape.Parse(spec.Shape!, rows, columns);
        int rank = spec.Rank!.Value;
        if (rank > shape.MaxNearestRank)
            throw new ArgumentException($"Weight matrix '{name}': a sum of {rank} chains of shape {shape} cannot be fitted from a dense matrix (at most {shape.MaxNearestRank}).");
        return KroneckerChainMatrix<T>.Nearest(name, shape, dense, rank);
    }

    /// <inheritdoc/>
    public override WeightFormSpec? Describe<T>(IWeightMatrix<T> matrix) =>
        matrix is KroneckerChainMatrix<T> c ? WeightFormSpec.KroneckerChain(c.Shape, c.Rank) : null;
}
