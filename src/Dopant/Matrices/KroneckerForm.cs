using System.Numerics;

namespace Dopant.Matrices;

/// <summary>Sums of Kronecker products (<see cref="KroneckerMatrix{T}"/>), <c>{"kind":"kronecker","shape":...,"rank":r}</c>; fitted by the nearest sum of products.</summary>
public sealed class KroneckerForm : WeightFormKind
{
    /// <inheritdoc/>
    public override string Name => WeightFormSpec.KroneckerKind;

    /// <inheritdoc/>
    public override bool UsesShape => true;

    /// <inheritdoc/>
    public override bool UsesRank => true;

    /// <inheritdoc/>
    public override bool FitsFromDense => true;

    /// <inheritdoc/>
    public override IWeightMatrix<T> Create<T>(WeightFormSpec spec, string name, int rows, int columns) =>
        new KroneckerMatrix<T>(name, KroneckerShape.Parse(spec.Shape!, rows, columns), spec.Rank!.Value);

    /// <inheritdoc/>
    public override IWeightMatrix<T> FromDense<T>(WeightFormSpec spec, string name, ReadOnlySpan<T> dense, int rows, int columns) =>
        KroneckerMatrix<T>.Nearest(name, KroneckerShape.Parse(spec.Shape!, rows, columns), dense, spec.Rank!.Value);

    /// <inheritdoc/>
    public override WeightFormSpec? Describe<T>(IWeightMatrix<T> matrix) => matrix is KroneckerMatrix<T> k ? WeightFormSpec.Kronecker(k.Shape, k.Rank) : null;
}
