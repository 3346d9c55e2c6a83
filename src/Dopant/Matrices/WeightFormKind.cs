using System.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// One weight-matrix form in the registry (<see cref="WeightForms.Kinds"/>): the name and fields of its
/// <see cref="WeightFormSpec"/>, and how a matrix of the form is built (zero, or fitted to a dense matrix) and described.
/// A new form is its matrix's file, its kind's file and one entry in <see cref="WeightForms.Kinds"/> (and, to stream it,
/// a kernel in the runtime).
/// </summary>
public abstract class WeightFormKind
{
    /// <summary>The kind's name in <see cref="WeightFormSpec.Kind"/>, as files store it.</summary>
    public abstract string Name { get; }

    /// <summary>Whether the spec gives a shape (Kronecker factors).</summary>
    public virtual bool UsesShape => false;

    /// <summary>Whether the spec gives a rank.</summary>
    public virtual bool UsesRank => false;

    /// <summary>Whether the spec gives dense rows (hybrid).</summary>
    public virtual bool UsesDenseRows => false;

    /// <summary>Whether the spec gives a structure (doped).</summary>
    public virtual bool UsesStructure => false;

    /// <summary>Whether the spec may give a block shape (pruned parts).</summary>
    public virtual bool TakesBlock => false;

    /// <summary>
    /// Whether <see cref="FromDense{T}"/> fits the form to the values (a structure) rather than holding them; such a form's
    /// sizes are checked by building its zero form first.
    /// </summary>
    public virtual bool FitsFromDense => false;

    /// <summary>
    /// Checks what the fields cannot say alone (a doped form's structure); the fields themselves are checked by
    /// <see cref="WeightForms"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The spec is not valid for this kind; the message names the matrix.</exception>
    public virtual void CheckSpec(WeightFormSpec spec, string name)
    {
    }

    /// <summary>A zero matrix of this form, <paramref name="rows"/> × <paramref name="columns"/>, with the parameter names of <paramref name="name"/>.</summary>
    public abstract IWeightMatrix<T> Create<T>(WeightFormSpec spec, string name, int rows, int columns) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// The form fitted to the dense matrix <paramref name="dense"/> (row-major); by default a zero form whose first
    /// parameter takes the values (dense and pruned forms hold the values themselves).
    /// </summary>
    public virtual IWeightMatrix<T> FromDense<T>(WeightFormSpec spec, string name, ReadOnlySpan<T> dense, int rows, int columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        IWeightMatrix<T> result = WeightForms.Create<T>(spec, name, rows, columns);
        dense.CopyTo(result.Parameters[0].Value);
        return result;
    }

    /// <summary>The spec of <paramref name="matrix"/> when it is of this form; otherwise null.</summary>
    public abstract WeightFormSpec? Describe<T>(IWeightMatrix<T> matrix) where T : unmanaged, IFloatingPointIeee754<T>;
}
