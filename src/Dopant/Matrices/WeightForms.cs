using System.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// The registry of weight-matrix forms (<see cref="Kinds"/>): from a form to its <see cref="WeightFormSpec"/> and
/// back, and from a dense matrix to any form. A new form is its matrix's file, its <see cref="WeightFormKind"/>'s file
/// and one entry in <see cref="Kinds"/>.
/// </summary>
/// <remarks>
/// Parameter names follow from the matrix name: <c>{name}</c> (dense), <c>{name}.kron_a</c> / <c>.kron_b</c>,
/// <c>{name}.kron_1</c> … <c>.kron_k</c> (kronecker_chain),
/// <c>{name}.lmf_u</c> / <c>.lmf_v</c>, <c>{name}.hmd_dense</c> / <c>.hmd_u</c> / <c>.hmd_v</c>, <c>{name}.weight</c>
/// (pruned), and for a doped matrix its structure's names plus the sparse part S as a pruned matrix with prefix
/// <c>{name}.doping</c> (<c>{name}.doping.weight</c>). A pruned matrix's mask is not a parameter; it is saved as
/// <see cref="MaskName{T}"/>.
/// </remarks>
public static class WeightForms
{
    /// <summary>Every form the registry knows, one entry each.</summary>
    public static IReadOnlyList<WeightFormKind> Kinds { get; } =
        [new DenseForm(), new KroneckerForm(), new KroneckerChainForm(), new LowRankForm(), new HybridForm(), new PrunedForm(), new DopedForm()];

    /// <summary>What a doped matrix's sparse part S appends to the matrix name: <c>{name}.doping</c>.</summary>
    public const string DopingSuffix = ".doping";

    /// <summary>
    /// The name of a pruned matrix's mask next to its values: <c>{weight name}_mask</c>, as PyTorch's
    /// torch.nn.utils.prune names its mask buffer.
    /// </summary>
    public static string MaskName<T>(PrunedMatrix<T> matrix) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(matrix);
        return matrix.Weight.Name + "_mask";
    }

    /// <summary>The description of <paramref name="matrix"/>'s form.</summary>
    /// <remarks>
    /// Only the structure is described; data (values, a pruned matrix's mask) and run-time switches (a doped matrix's
    /// dropouts and <see cref="DopedMatrix{T}.SparseEnabled"/>) are not.
    /// </remarks>
    /// <exception cref="ArgumentException">The form is not one the registry knows.</exception>
    public static WeightFormSpec Describe<T>(IWeightMatrix<T> matrix) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(matrix);
        foreach (WeightFormKind kind in Kinds)
            if (kind.Describe(matrix) is { } spec) return spec;
        throw new ArgumentException($"The weight form {matrix.GetType().Name} is not in the registry; it cannot be described or saved.", nameof(matrix));
    }

    /// <summary>
    /// A zero form of <paramref name="rows"/> × <paramref name="columns"/> described by <paramref name="spec"/>, with
    /// the parameter names of the matrix <paramref name="name"/> (an unpruned pruned matrix, for the pruned parts).
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The kind is unknown, a field the kind needs is missing or one it does not use is present, or the sizes do not
    /// fit the matrix; the message names the matrix and the problem.
    /// </exception>
    public static IWeightMatrix<T> Create<T>(WeightFormSpec spec, string name, int rows, int columns) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        WeightFormKind kind = Check(spec, name);
        try
        {
            return kind.Create<T>(spec, name, rows, columns);
        }
        catch (ArgumentException e) when (!e.Message.StartsWith(Subject(name), StringComparison.Ordinal))
        {
            throw new ArgumentException($"{Subject(name)} ({rows}×{columns}, {spec.ToJson()}): {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>
    /// The form described by <paramref name="spec"/> built from the dense matrix <paramref name="dense"/> (row-major,
    /// <paramref name="rows"/> × <paramref name="columns"/>), with the parameter names of the matrix <paramref name="name"/>.
    /// </summary>
    /// <remarks>
    /// dense: a copy. kronecker: the nearest sum of products (<see cref="KroneckerMatrix{T}.Nearest"/>).
    /// kronecker_chain: the peeled and ALS-refined sum of chains (<see cref="KroneckerChainMatrix{T}.Nearest"/>). low_rank and
    /// hybrid: the truncated SVD (<see cref="LowRankMatrix{T}.FromDense"/>, <see cref="HybridMatrix{T}.FromDense"/>).
    /// pruned: a copy, nothing pruned yet. doped: the structured part M from the dense matrix as above, and S the
    /// residual W − M, unpruned (dense), so that M + S starts at W (up to rounding) and the sparsity annealer prunes S
    /// during training, as the doping paper grows sparsity gradually rather than cutting it at once.
    /// </remarks>
    /// <exception cref="ArgumentException">As for <see cref="Create{T}"/>, or the number of values is not rows·columns.</exception>
    public static IWeightMatrix<T> FromDense<T>(WeightFormSpec spec, string name, ReadOnlySpan<T> dense, int rows, int columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (dense.Length != (long)rows * columns)
            throw new ArgumentException($"{Subject(name)}: expected {(long)rows * columns} dense values for {rows}×{columns}, got {dense.Length}.", nameof(dense));
        WeightFormKind kind = Check(spec, name);
        // A fitted form's zero form first, so that bad sizes fail with the same message as Create.
        if (kind.FitsFromDense) _ = Create<T>(spec, name, rows, columns);
        return kind.FromDense(spec, name, dense, rows, columns);
    }

    /// <summary>The pruned matrices inside <paramref name="matrix"/> (itself, or a doped matrix's S), whose masks a checkpoint stores.</summary>
    internal static IEnumerable<PrunedMatrix<T>> PrunedParts<T>(IWeightMatrix<T> matrix) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (matrix)
        {
            case PrunedMatrix<T> pruned:
                yield return pruned;
                break;
            case DopedMatrix<T> doped:
                foreach (PrunedMatrix<T> part in PrunedParts(doped.Structure)) yield return part;
                yield return doped.Sparse;
                break;
        }
    }

    /// <summary>The kind of <paramref name="spec"/>, once it is checked to be known and to have exactly the fields that kind uses.</summary>
    private static WeightFormKind Check(WeightFormSpec spec, string name)
    {
        WeightFormKind kind = Kinds.FirstOrDefault(k => k.Name == spec.Kind) ?? throw new ArgumentException(
            $"{Subject(name)} has a weight form of {(spec.Kind is null ? "no kind" : $"unknown kind '{spec.Kind}'")} (known: {string.Join(", ", Kinds.Select(k => k.Name))}).");
        Fields(spec, name, kind.UsesShape, kind.UsesRank, kind.UsesDenseRows, kind.UsesStructure, kind.TakesBlock ? null : false);
        kind.CheckSpec(spec, name);
        if (kind.UsesStructure) Check(spec.Structure!, name);
        return kind;
    }

    // block: false when the kind has no blocks, null when they are optional.
    private static void Fields(WeightFormSpec spec, string name, bool shape, bool rank, bool denseRows, bool structure, bool? block = false)
    {
        if (block == false) Field(spec, name, "block", spec.Block is not null, false);
        else if (spec.Block is not null)
        {
            try
            {
                _ = BlockShape.Parse(spec.Block);
            }
            catch (FormatException e)
            {
                throw new ArgumentException($"{Subject(name)}: {e.Message}");
            }
        }
        Field(spec, name, "shape", spec.Shape is not null, shape);
        Field(spec, name, "rank", spec.Rank is not null, rank);
        Field(spec, name, "dense_rows", spec.DenseRows is not null, denseRows);
        Field(spec, name, "structure", spec.Structure is not null, structure);
    }

    private static void Field(WeightFormSpec spec, string name, string field, bool present, bool used)
    {
        if (present == used) return;
        throw new ArgumentException(used
            ? $"{Subject(name)}: a '{spec.Kind}' weight form needs '{field}'."
            : $"{Subject(name)}: a '{spec.Kind}' weight form does not use '{field}'.");
    }

    private static string Subject(string name) => $"Weight matrix '{name}'";

    // ArgumentException appends " (Parameter 'x')" to its message; keep diagnostics on one line without it.
    private static string FirstLine(string message)
    {
        int cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return (cut >= 0 ? message[..cut] : message).ReplaceLineEndings(" ");
    }
}
