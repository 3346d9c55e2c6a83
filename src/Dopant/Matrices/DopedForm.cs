using System.Numerics;
using System.Numerics.Tensors;

namespace Dopant.Matrices;

/// <summary>
/// A structure plus a sparse additive S (<see cref="DopedMatrix{T}"/>), <c>{"kind":"doped","structure":{...}}</c>
/// with an optional block shape of S. Fitted as the structure fitted to the dense matrix and S the residual, unpruned,
/// so that M + S starts at W (up to rounding) and the annealer prunes S during training, as the doping paper grows
/// sparsity gradually rather than cutting it at once.
/// </summary>
public sealed class DopedForm : WeightFormKind
{
    /// <inheritdoc/>
    public override string Name => WeightFormSpec.DopedKind;

    /// <inheritdoc/>
    public override bool UsesStructure => true;

    /// <inheritdoc/>
    public override bool TakesBlock => true;

    /// <inheritdoc/>
    public override void CheckSpec(WeightFormSpec spec, string name)
    {
        // A doped structure's own S would take the name of the outer S.
        if (spec.Structure!.Kind == WeightFormSpec.DopedKind)
            throw new ArgumentException($"Weight matrix '{name}': the structure of a doped form cannot itself be doped.");
    }

    /// <inheritdoc/>
    public override IWeightMatrix<T> Create<T>(WeightFormSpec spec, string name, int rows, int columns) =>
        new DopedMatrix<T>(WeightForms.Create<T>(spec.Structure!, name, rows, columns),
            new PrunedMatrix<T>(name + WeightForms.DopingSuffix, rows, columns, spec.BlockShape));

    /// <inheritdoc/>
    public override IWeightMatrix<T> FromDense<T>(WeightFormSpec spec, string name, ReadOnlySpan<T> dense, int rows, int columns)
    {
        IWeightMatrix<T> structure = WeightForms.FromDense(spec.Structure!, name, dense, rows, columns);
        T[] residual = structure.ToDense();
        TensorPrimitives.Subtract(dense, residual, residual);
        return new DopedMatrix<T>(structure, PrunedMatrix<T>.FromDense(name + WeightForms.DopingSuffix, residual, rows, columns, spec.BlockShape));
    }

    /// <inheritdoc/>
    public override WeightFormSpec? Describe<T>(IWeightMatrix<T> matrix) =>
        matrix is DopedMatrix<T> d ? WeightFormSpec.Doped(WeightForms.Describe(d.Structure), d.Sparse.Block) : null;
}
